import CalzinoPolicy
import NIOCore
import SOCKSCore
import Yams

extension ServeOptions {
    static let topLevelKeys = [
        "listen", "log-level", "threads", "users-file", "users", "groups", "allow-open-proxy",
        "allow-private-destinations", "timeouts", "udp-advertise", "ident", "ident-port", "limits",
        "default-action", "rules",
    ]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads a configuration file. Every problem throws a `ConfigurationFileError` naming the file and line.
    public static func load(path: String) throws -> ServeOptions {
        guard let text = TextFile.read(path) else {
            throw ConfigurationFileError(file: path, line: 0, problem: "cannot be read")
        }
        return try Self.parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ServeOptions {
        var options = ServeOptions()
        options.file = file
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        }
        guard let root else { return options }  // an empty file: every default
        let entries = try ConfigNode(node: root, file: file, path: "").mapping(allowed: Self.topLevelKeys)
        let byKey = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        // Groups first: rules refer to them wherever they are in the file.
        let groups = try byKey["groups"].map(Self.parseGroups) ?? [:]
        for (key, value) in entries {
            switch key {
            case "listen": options.listen = try value.list().map(Self.parseListener)
            case "log-level": options.logLevel = try value.choice(Self.logLevels)
            case "threads": options.threads = try value.int(in: 1...256)
            case "users-file":
                options.usersFile = Self.relative(try value.string(), to: file)
                options.usersFileLine = value.line
            case "users": options.inlineUsers = try Self.parseUsers(value)
            case "groups": break
            case "allow-open-proxy": options.allowOpenProxy = try value.bool()
            case "allow-private-destinations": options.allowPrivateDestinations = try value.bool()
            case "timeouts": try options.parseTimeouts(value)
            case "udp-advertise": options.udpAdvertise = try Self.parseIP(value)
            case "ident": options.ident = IdentMode(rawValue: try value.choice(IdentMode.allCases.map(\.rawValue)))
            case "ident-port": options.identPort = try value.int(in: 1...65535)
            case "limits": try options.parseLimits(value)
            case "default-action": options.defaultAction = AccessRule.Action(rawValue: try value.choice(["allow", "deny"]))
            case "rules": options.rules = try RuleParser(groups: groups, listeners: options.listenerNames).parse(value)
            default: break
            }
        }
        return options
    }

    /// The names rules may use for listeners: each listener's name and address.
    var listenerNames: Set<String>? {
        guard let listen = self.listen else { return nil }
        return Set(listen.flatMap { listener in listener.addresses.map(SessionRecord.format) + (listener.name.map { [$0] } ?? []) })
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ConfigurationFileError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigurationFileError(file: file, line: mark.line, problem: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let line = Self.repeatLine(of: key, after: context.mark, in: context.text) ?? context.mark.line
            return ConfigurationFileError(file: file, line: line, problem: "'\(key)' appears twice in one mapping (first on line \(context.mark.line))")
        default:
            return ConfigurationFileError(file: file, line: 0, problem: "not valid YAML: \(error)")
        }
    }

    /// The line where `key` is written again at the same column as its first occurrence at `first`.
    private static func repeatLine(of key: String, after first: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(indent)
            if indent + 1 == first.column, rest.hasPrefix("\(key):") || rest.hasPrefix("\"\(key)\":") {
                return index + 1
            }
        }
        return nil
    }

    /// A path in the file is relative to the file's directory.
    private static func relative(_ path: String, to file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }

    private static func parseListener(_ node: ConfigNode) throws -> Listener {
        let addressNode: ConfigNode
        var name: String?
        if case .mapping = node.node {
            var address: ConfigNode?
            for (key, value) in try node.mapping(allowed: ["address", "name"]) {
                if key == "address" { address = value } else { name = try RuleParser.name(value) }
            }
            guard let address else { throw node.error("a listener needs an address") }
            addressNode = address
        } else {
            addressNode = node
        }
        let text = try addressNode.string()
        do {
            return Listener(addresses: try ListenAddress.parse(text), name: name, file: node.file, line: node.line)
        } catch let error as ConfigurationValueError {
            throw addressNode.error(error.description)
        }
    }

    private static func parseIP(_ node: ConfigNode) throws -> SocketAddress {
        let text = try node.string()
        guard let address = IPAddressValue.parse(text) else {
            throw node.error("'\(text)' is not an IP address")
        }
        return address
    }

    private static func parseUsers(_ node: ConfigNode) throws -> [String: PasswordHash] {
        var users: [String: PasswordHash] = [:]
        for (name, value) in try node.namedEntries() {
            guard name.utf8.count <= 255, !name.contains(":") else {
                throw value.error("a user name must be 1 to 255 bytes without ':'")
            }
            do {
                users[name] = try PasswordHash(encoded: Substring(try value.string()))
            } catch let error as ConfigurationValueError {
                throw value.error(error.problem)
            }
        }
        return users
    }

    private static func parseGroups(_ node: ConfigNode) throws -> [String: Set<String>] {
        var groups: [String: Set<String>] = [:]
        for (name, value) in try node.namedEntries() {
            groups[name] = Set(try value.strings())
        }
        return groups
    }

    private mutating func parseTimeouts(_ node: ConfigNode) throws {
        for (key, value) in try node.mapping(allowed: ["handshake", "connect", "bind", "idle", "udp-idle", "drain", "ident"]) {
            let duration = try value.duration()
            switch key {
            case "handshake": self.handshakeTimeout = duration
            case "connect": self.connectTimeout = duration
            case "bind": self.bindTimeout = duration
            case "idle": self.idleTimeout = duration
            case "udp-idle": self.udpIdleTimeout = duration
            case "drain": self.drainTimeout = duration
            default: self.identTimeout = duration
            }
        }
    }

    private mutating func parseLimits(_ node: ConfigNode) throws {
        let keys = ["max-connections", "max-sessions", "sessions-per-client", "sessions-per-user", "handshakes-per-client-per-second", "bandwidth-per-session", "bandwidth-per-user"]
        for (key, value) in try node.mapping(allowed: keys) {
            switch key {
            case "max-connections": self.maxConnections = try value.int(in: 1...1_000_000)
            case "max-sessions": self.maxSessions = try value.int(in: 1...1_000_000)
            case "sessions-per-client": self.limits.sessionsPerClient = try value.int(in: 1...1_000_000)
            case "sessions-per-user": self.limits.sessionsPerUser = try value.int(in: 1...1_000_000)
            case "handshakes-per-client-per-second": self.limits.handshakesPerClientPerSecond = try value.int(in: 1...1_000_000)
            case "bandwidth-per-session": self.limits.sessionBandwidth = try RuleParser.bandwidth(value)
            default: self.limits.userBandwidth = try RuleParser.bandwidth(value)
            }
        }
    }
}
