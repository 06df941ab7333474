import CalzinoPolicy
import SOCKSCore

/// Reads the `rules` list of a configuration file into `AccessRule`s, expanding groups into their users.
struct RuleParser {
    static let ruleKeys = [
        "name", "action", "listeners", "clients", "users", "groups", "versions", "commands", "to-names",
        "to-addresses", "to-ports", "timeouts", "bandwidth", "bandwidth-per-user",
    ]
    static let versions: [String: SOCKSClientRequest.Version] = ["socks4": .socks4, "socks4a": .socks4a, "socks5": .socks5]

    let groups: [String: Set<String>]
    /// The names and addresses of the file's listeners; `nil` when the file has none to check against.
    let listeners: Set<String>?

    func parse(_ node: ConfigNode) throws -> [AccessRule] {
        var names: Set<String> = []
        return try node.list().enumerated().map { index, item in
            let rule = try self.parseRule(item, position: index + 1)
            guard names.insert(rule.name).inserted else {
                throw item.error("rule name '\(rule.name)' is used twice")
            }
            return rule
        }
    }

    private func parseRule(_ node: ConfigNode, position: Int) throws -> AccessRule {
        var rule = AccessRule(name: "#\(position)", action: .deny)
        var action: AccessRule.Action?
        for (key, value) in try node.mapping(allowed: Self.ruleKeys) {
            switch key {
            case "name": rule.name = try Self.name(value)
            case "action": action = AccessRule.Action(rawValue: try value.choice(["allow", "deny"]))
            case "listeners":
                let names = try value.strings()
                if let known = self.listeners, let unknown = names.first(where: { !known.contains($0) }) {
                    throw value.error("no listener is named or listens on '\(unknown)'")
                }
                rule.listeners = Set(names)
            case "clients": rule.clients = try value.items("a CIDR block or address set", AddressMatcher.init(parsing:))
            case "users": rule.users = (rule.users ?? []).union(try value.strings())
            case "groups":
                var users = rule.users ?? []
                for item in try value.list() {
                    let group = try item.string()
                    guard let members = self.groups[group] else { throw item.error("no group '\(group)' under groups") }
                    users.formUnion(members)
                }
                rule.users = users
            case "versions":
                rule.versions = Set(try value.items("socks4, socks4a or socks5") { Self.versions[$0] })
            case "commands":
                rule.commands = Set(try value.items("connect, bind or udp", AccessRequest.Command.init(rawValue:)))
            case "to-names": rule.destinationNames = try value.items("a name or *.domain", NamePattern.init(parsing:))
            case "to-addresses": rule.destinationAddresses = try value.items("a CIDR block or address set (loopback, private, link-local, metadata, multicast, unspecified, global)", AddressMatcher.init(parsing:))
            case "to-ports": rule.destinationPorts = try value.items("a port or a range such as 8000-8999", PortRange.init(parsing:))
            case "timeouts": rule.overrides.timeouts = try TimeoutsKey.parse(value, allowed: Timeouts.Key.allCases.filter(\.isPerRule))
            case "bandwidth": rule.overrides.limits.bandwidthPerSession = try BandwidthKey.parse(value)
            default: rule.overrides.limits.bandwidthPerUser = try BandwidthKey.parse(value)
            }
        }
        guard let action else { throw node.error("a rule needs an action: allow or deny") }
        rule.action = action
        return rule
    }

    /// A name for a rule or listener: letters, digits, `.`, `_`, `-`, at most 64.
    static func name(_ node: ConfigNode) throws -> String {
        let text = try node.string()
        let allowed = text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard allowed, (1...64).contains(text.utf8.count) else {
            throw node.error("'\(text)' is not a name: use 1 to 64 letters, digits, '.', '_' or '-'")
        }
        return text
    }

    /// The rules in force, as `check-config` prints them: each in the file's own form.
    static func print(_ rules: [AccessRule]) -> [String] {
        var lines = [rules.isEmpty ? "rules: []" : "rules:"]
        for rule in rules {
            lines.append(contentsOf: Self.print(rule))
        }
        return lines
    }

    private static func print(_ rule: AccessRule) -> [String] {
        // An unnamed rule's name is its position (`#2`), which no written name can be (a name does not start
        // with '#'): written without one, it reads back at the same position with the same name.
        var lines = rule.name.hasPrefix("#")
            ? ["  - action: \(rule.action.rawValue)  # unnamed: \(rule.name)"]
            : ["  - name: \"\(rule.name)\"", "    action: \(rule.action.rawValue)"]
        func list<T>(_ key: String, _ values: [T]?, _ text: (T) -> String) {
            guard let values else { return }
            lines.append("    \(key): [\(values.map { "\"\(text($0))\"" }.joined(separator: ", "))]")
        }
        list("listeners", rule.listeners?.sorted(), { $0 })
        list("clients", rule.clients, \.description)
        list("users", rule.users?.sorted(), { $0 })
        list("versions", rule.versions.map { Array($0).map { "socks\($0)" }.sorted() }, { $0 })
        list("commands", rule.commands?.map(\.rawValue).sorted(), { $0 })
        list("to-names", rule.destinationNames, \.description)
        list("to-addresses", rule.destinationAddresses, \.description)
        list("to-ports", rule.destinationPorts, \.description)
        let overrides = rule.overrides
        if let timeouts = TimeoutsKey.printInline(overrides.timeouts) { lines.append("    timeouts: \(timeouts)") }
        if let bandwidth = overrides.limits.bandwidthPerSession { lines.append("    bandwidth: \(BandwidthKey.print(bandwidth))") }
        if let bandwidth = overrides.limits.bandwidthPerUser { lines.append("    bandwidth-per-user: \(BandwidthKey.print(bandwidth))") }
        return lines
    }
}
