import CalzinoPolicy
import CalzinoServer
import NIOCore

extension ConfigurationKey {
    /// Every top-level key, in the order of the documentation and of the printout.
    static let topLevel: [ConfigurationKey] = [
        ConfigurationKey(
            name: "listen",
            read: { node, file in
                let listeners = try node.list().map(ListenKey.parse)
                // Optional listeners may all fail to bind: one at least must be certain.
                guard listeners.isEmpty || listeners.contains(where: { !$0.optional }) else {
                    throw node.error("every listener is optional: at least one must not be")
                }
                file.options.listen = listeners
            },
            print: { view in ListenKey.print(view.configuration) }
        ),
        ConfigurationKey(
            name: "log-level",
            read: { node, file in file.options.logLevel = try node.choice(ServeOptions.logLevels) },
            print: { view in ["log-level: \(view.options.logLevel ?? "info")"] }
        ),
        .mode("log-format", into: \.logFormat, inForce: \.logFormat),
        ConfigurationKey(
            name: "threads",
            read: { node, file in file.options.threads = try node.int(in: ServeOptions.threadRange) },
            // The default follows the machine, so the report keeps it a comment: read back elsewhere, it still does.
            print: { view in [view.options.threads.map { "threads: \($0)" } ?? "# threads: \(System.coreCount)  (one per core, the default)"] }
        ),
        ConfigurationKey(
            name: "users-file",
            read: { node, file in
                file.options.usersFile = Self.relative(try node.string(), to: node.file)
                file.options.usersFileLine = node.line
            },
            print: { _ in [] }  // the users, wherever they come from, are listed under `users`
        ),
        ConfigurationKey(
            name: "users",
            read: { node, file in file.options.inlineUsers = try UsersKey.parse(node) },
            print: { view in
                guard let users = view.configuration.users else { return ["# users: none (no authentication)"] }
                return ["# users: \(users.names.joined(separator: ", ")) (RFC 1929 required on every listener)"]
            }
        ),
        ConfigurationKey(
            name: "groups",
            read: { node, file in file.groupsNode = node },
            print: { _ in [] }  // groups are expanded into the rules' users
        ),
        ConfigurationKey(
            name: "allow-open-proxy",
            read: { node, file in file.options.allowOpenProxy = try node.bool() },
            print: { view in ["allow-open-proxy: \(view.configuration.allowOpenProxy)"] }
        ),
        ConfigurationKey(
            name: "allow-private-destinations",
            read: { node, file in file.options.allowPrivateDestinations = try node.bool() },
            print: { view in ["allow-private-destinations: \(view.configuration.allowPrivateDestinations)"] }
        ),
        ConfigurationKey(
            name: "timeouts",
            read: { node, file in
                file.options.timeouts = try TimeoutsKey.parse(node, allowed: Timeouts.Key.allCases)
            },
            print: { view in ["timeouts:"] + TimeoutsKey.print(view.configuration.timeouts).map { "  " + $0 } }
        ),
        ConfigurationKey(
            name: "udp-advertise",
            read: { node, file in file.options.udpAdvertise = try node.ipAddress() },
            print: { view in view.configuration.udpAdvertise.map { ["udp-advertise: \"\($0.ipAddress ?? "?")\""] } ?? [] }
        ),
        .mode("udp-client-port", into: \.udpClientPort, inForce: \.udpClientPort),
        .mode("udp-replies", into: \.udpReplies, inForce: \.udpReplies),
        .mode("ident", into: \.ident, inForce: \.ident),
        ConfigurationKey(
            name: "ident-port",
            read: { node, file in file.options.identPort = try node.int(in: 1...65535) },
            print: { view in ["ident-port: \(view.configuration.identPort)"] }
        ),
        ConfigurationKey(
            name: "limits",
            read: { node, file in file.options.limits = try LimitsKey.parse(node) },
            print: { view in ["limits:"] + LimitsKey.print(view.configuration.limits).map { "  " + $0 } }
        ),
        ConfigurationKey(
            name: "admin",
            read: { node, file in file.options.admin = try AdminKey.parse(node) },
            print: { view in AdminKey.print(view.options.admin) }
        ),
        ConfigurationKey(
            name: "user",
            read: { node, file in file.options.user = try node.string() },
            print: { view in view.options.user.map { ["user: \"\($0)\""] } ?? ["# user: unchanged (the process keeps its own)"] }
        ),
        ConfigurationKey(
            name: "group",
            read: { node, file in file.options.group = try node.string() },
            print: { view in view.options.group.map { ["group: \"\($0)\""] } ?? [] }
        ),
        ConfigurationKey(
            name: "default-action",
            read: { node, file in file.options.defaultAction = AccessRule.Action(rawValue: try node.choice(["allow", "deny"])) },
            print: { view in ["default-action: \(view.configuration.rules.defaultAction.rawValue)"] }
        ),
        ConfigurationKey(
            name: "rules",
            read: { node, file in file.rulesNode = node },
            print: { view in RuleParser.print(view.configuration.rules.rules) }
        ),
    ]

    /// A path in the file is relative to the file's directory.
    static func relative(_ path: String, to file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return String(file[...slash]) + path
    }
}
