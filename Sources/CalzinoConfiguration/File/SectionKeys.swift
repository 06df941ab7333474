import CalzinoPolicy
import CalzinoServer
import NIOCore

/// `timeouts:` at the top level and in a rule: one reader for both, limited to the keys each allows.
enum TimeoutsKey {
    static func parse(_ node: ConfigNode, allowed: [Timeouts.Key]) throws -> Timeouts.Settings {
        var settings: Timeouts.Settings = [:]
        for (name, value) in try node.mapping(allowed: allowed.map(\.rawValue)) {
            if let key = Timeouts.Key(rawValue: name) {
                settings[key] = try value.duration()
            }
        }
        return settings
    }

    /// Every deadline in force, one line each; a zero that turns a deadline off says so.
    static func print(_ timeouts: Timeouts) -> [String] {
        Timeouts.Key.allCases.map { key in
            let disabled = key.zeroDisables && timeouts[key] == .zero ? "  # disabled" : ""
            return "\(key.rawValue): \(DurationValue.format(timeouts[key]))\(disabled)"
        }
    }

    /// A rule's deadlines on one line (no comment, which would end the line): `{connect: 2s, idle: 0}`;
    /// `nil` when it sets none.
    static func printInline(_ settings: Timeouts.Settings) -> String? {
        guard !settings.isEmpty else { return nil }
        let parts = settings.keys.sorted().compactMap { key in settings[key].map { "\(key.rawValue): \(DurationValue.format($0))" } }
        return "{\(parts.joined(separator: ", "))}"
    }
}

/// `limits:`: the count limits (each within `Limits.countRange`, as their flags), the two bandwidths, and
/// the IPv6 prefix that makes one client.
enum LimitsKey {
    static let bandwidthPerSession = "bandwidth-per-session"
    static let bandwidthPerUser = "bandwidth-per-user"
    static let clientIPv6Prefix = "client-ipv6-prefix"

    static func parse(_ node: ConfigNode) throws -> Limits {
        var limits = Limits()
        let names = Limits.CountKey.allCases.map(\.rawValue) + [Self.bandwidthPerSession, Self.bandwidthPerUser, Self.clientIPv6Prefix]
        for (name, value) in try node.mapping(allowed: names) {
            if let key = Limits.CountKey(rawValue: name) {
                limits[key] = try value.int(in: Limits.countRange)
            } else if name == Self.clientIPv6Prefix {
                limits.clientIPv6Prefix = try value.int(in: ClientKey.ipv6PrefixRange)
            } else if name == Self.bandwidthPerSession {
                limits.bandwidthPerSession = try BandwidthKey.parse(value)
            } else {
                limits.bandwidthPerUser = try BandwidthKey.parse(value)
            }
        }
        return limits
    }

    /// Every limit in force; one that is not set is written as a comment, so that the report stays a
    /// configuration file that reads back.
    static func print(_ limits: Limits) -> [String] {
        let counts = Limits.CountKey.allCases.map { key in
            guard let value = limits[key] else {
                return "# \(key.rawValue): unlimited" + (key == .maxConnections ? "  (up to the descriptor limit)" : "")
            }
            return "\(key.rawValue): \(value)"
        }
        let bandwidths = [(Self.bandwidthPerSession, limits.bandwidthPerSession), (Self.bandwidthPerUser, limits.bandwidthPerUser)].map { name, bandwidth in
            guard let bandwidth, !bandwidth.isUnlimited else { return "# \(name): unlimited" }
            return "\(name): \(BandwidthKey.print(bandwidth))"
        }
        let prefix = limits.clientIPv6Prefix.map { "\(Self.clientIPv6Prefix): \($0)" }
            ?? "# \(Self.clientIPv6Prefix): \(ClientKey.defaultIPv6Prefix)  (the default)"
        return counts + bandwidths + [prefix]
    }
}

/// `{up: RATE, down: RATE}`, either may be left out.
enum BandwidthKey {
    static func parse(_ node: ConfigNode) throws -> Bandwidth {
        var bandwidth = Bandwidth()
        for (key, value) in try node.mapping(allowed: ["up", "down"]) {
            let rate: Int
            do {
                rate = try ByteRateValue.parse(try value.string())
            } catch let error as ConfigurationValueError {
                throw value.error(error.description)
            }
            if key == "up" { bandwidth.up = rate } else { bandwidth.down = rate }
        }
        return bandwidth
    }

    static func print(_ bandwidth: Bandwidth?) -> String {
        guard let bandwidth, !bandwidth.isUnlimited else { return "unlimited" }
        var parts: [String] = []
        if let up = bandwidth.up { parts.append("up: \(ByteRateValue.format(up))") }
        if let down = bandwidth.down { parts.append("down: \(ByteRateValue.format(down))") }
        return "{\(parts.joined(separator: ", "))}"
    }
}

/// One `listen` entry: `HOST:PORT`, or `{address: HOST:PORT, name: NAME, optional: true}`. An optional
/// listener is skipped, with a warning, when its address cannot be bound (the default `[::1]:1080` on a host
/// without IPv6); check-config's report writes the default that way, so that it reads back the same.
enum ListenKey {
    static func parse(_ node: ConfigNode) throws -> ServeOptions.Listener {
        let addressNode: ConfigNode
        var name: String?
        var optional = false
        if case .mapping = node.node {
            var address: ConfigNode?
            for (key, value) in try node.mapping(allowed: ["address", "name", "optional"]) {
                switch key {
                case "address": address = value
                case "name": name = try RuleParser.name(value)
                default: optional = try value.bool()
                }
            }
            guard let address else { throw node.error("a listener needs an address") }
            addressNode = address
        } else {
            addressNode = node
        }
        let text = try addressNode.string()
        do {
            return ServeOptions.Listener(addresses: try ListenAddress.parse(text), name: name, optional: optional, file: node.file, line: node.line)
        } catch let error as ConfigurationValueError {
            throw addressNode.error(error.description)
        }
    }

    static func print(_ configuration: CalzinoServerConfiguration) -> [String] {
        var lines = ["listen:"]
        for address in configuration.listeners + configuration.optionalListeners {
            var fields = ["address: \"\(AddressText.format(address))\""]
            if let name = configuration.listenerNames[address] { fields.append("name: \(name)") }
            if configuration.optionalListeners.contains(address) {
                fields.append("optional: true")
            }
            lines.append(fields.count == 1 ? "  - \"\(AddressText.format(address))\"" : "  - {\(fields.joined(separator: ", "))}")
        }
        return lines
    }
}

/// `users:` in the file: `NAME: HASH` entries.
enum UsersKey {
    static func parse(_ node: ConfigNode) throws -> [String: PasswordHash] {
        var users: [String: PasswordHash] = [:]
        for (name, value) in try node.namedEntries() {
            guard name.utf8.count <= 255, !name.contains(":") else {
                throw value.error("a user name must be 1 to 255 bytes without ':'")
            }
            do {
                users[name] = try PasswordHash(encoded: Substring(try value.string()))
            } catch let error as CalzinoServerError {
                throw value.error(error.problem)
            }
        }
        return users
    }
}

/// `groups:`: `NAME: [users]` entries, expanded into the rules that name them.
enum GroupsKey {
    static func parse(_ node: ConfigNode) throws -> [String: Set<String>] {
        var groups: [String: Set<String>] = [:]
        for (name, value) in try node.namedEntries() {
            groups[name] = Set(try value.strings())
        }
        return groups
    }
}

/// `admin: HOST:PORT` or `admin: {address: HOST:PORT, token-file: FILE}`.
enum AdminKey {
    static func parse(_ node: ConfigNode) throws -> ServeOptions.Admin {
        var addressNode = node
        var tokenFile: String?
        if case .mapping = node.node {
            var address: ConfigNode?
            for (key, value) in try node.mapping(allowed: ["address", "token-file"]) {
                if key == "address" {
                    address = value
                } else {
                    tokenFile = ConfigurationKey.relative(try value.string(), to: value.file)
                }
            }
            guard let address else { throw node.error("the admin listener needs an address") }
            addressNode = address
        }
        let text = try addressNode.string()
        let addresses: [SocketAddress]
        do {
            addresses = try ListenAddress.parse(text)
        } catch let error as ConfigurationValueError {
            throw addressNode.error(error.description)
        }
        guard let address = addresses.first else { throw addressNode.error("'\(text)' names no address") }
        var admin = ServeOptions.Admin(address: address, tokenFile: tokenFile)
        admin.file = node.file
        admin.line = node.line
        return admin
    }

    static func print(_ admin: ServeOptions.Admin?) -> [String] {
        guard let admin else { return ["# admin: off"] }
        let address = "\"\(AddressText.format(admin.address))\""
        guard let tokenFile = admin.tokenFile else { return ["admin: {address: \(address)}"] }
        return ["admin: {address: \(address), token-file: \"\(tokenFile)\"}"]
    }
}
