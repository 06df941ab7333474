import CalzinoPolicy
import NIOCore

/// `calzino check-config`'s report: the configuration in force after the file, the flags and the defaults,
/// written in the file's own YAML form. Users are listed by name only.
public enum EffectiveConfiguration {
    public static func describe(_ options: ServeOptions, _ configuration: CalzinoServerConfiguration) -> String {
        var lines: [String] = []
        lines.append("listen:")
        for address in configuration.listeners + configuration.optionalListeners {
            let optional = configuration.optionalListeners.contains(address) ? "  # optional: skipped if it cannot bind" : ""
            if let name = configuration.listenerNames[address] {
                lines.append("  - {address: \"\(SessionRecord.format(address))\", name: \(name)}\(optional)")
            } else {
                lines.append("  - \"\(SessionRecord.format(address))\"\(optional)")
            }
        }
        lines.append("log-level: \(options.logLevel ?? "info")")
        lines.append("threads: \(options.threads.map(String.init) ?? "\(System.coreCount)  # one per core")")
        if let users = configuration.users {
            lines.append("# users: \(users.names.joined(separator: ", ")) (RFC 1929 required on every listener)")
        } else {
            lines.append("# users: none (no authentication)")
        }
        lines.append("allow-open-proxy: \(configuration.allowOpenProxy)")
        lines.append("allow-private-destinations: \(configuration.allowPrivateDestinations)")
        lines.append("timeouts:")
        lines.append("  handshake: \(Self.duration(configuration.handshakeTimeout))")
        lines.append("  connect: \(Self.duration(configuration.connectTimeout))")
        lines.append("  bind: \(Self.duration(configuration.bindTimeout))")
        lines.append("  idle: \(Self.duration(configuration.idleTimeout))")
        lines.append("  udp-idle: \(Self.duration(configuration.udpIdleTimeout))")
        lines.append("  drain: \(Self.duration(configuration.drainTimeout))")
        lines.append("  ident: \(Self.duration(configuration.identTimeout))")
        if let advertise = configuration.udpAdvertise {
            lines.append("udp-advertise: \"\(advertise.ipAddress ?? "?")\"")
        }
        lines.append("ident: \(configuration.ident.rawValue)")
        lines.append("limits:")
        lines.append("  max-connections: \(configuration.maxConnections.map(String.init) ?? "unlimited  # up to the descriptor limit")")
        lines.append("  max-sessions: \(configuration.maxSessions.map(String.init) ?? "unlimited")")
        let limits = configuration.limits
        lines.append("  sessions-per-client: \(limits.sessionsPerClient.map(String.init) ?? "unlimited")")
        lines.append("  sessions-per-user: \(limits.sessionsPerUser.map(String.init) ?? "unlimited")")
        lines.append("  handshakes-per-client-per-second: \(limits.handshakesPerClientPerSecond.map(String.init) ?? "unlimited")")
        lines.append("  bandwidth-per-session: \(Self.bandwidth(limits.sessionBandwidth))")
        lines.append("  bandwidth-per-user: \(Self.bandwidth(limits.userBandwidth))")
        lines.append("default-action: \(configuration.rules.defaultAction.rawValue)")
        lines.append(configuration.rules.rules.isEmpty ? "rules: []" : "rules:")
        for rule in configuration.rules.rules {
            lines.append(contentsOf: Self.describe(rule))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ rule: AccessRule) -> [String] {
        var lines = ["  - name: \"\(rule.name)\"", "    action: \(rule.action.rawValue)"]
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
        var timeouts: [String] = []
        if let value = overrides.connectTimeout { timeouts.append("connect: \(Self.duration(value))") }
        if let value = overrides.bindTimeout { timeouts.append("bind: \(Self.duration(value))") }
        if let value = overrides.idleTimeout { timeouts.append("idle: \(Self.duration(value))") }
        if let value = overrides.udpIdleTimeout { timeouts.append("udp-idle: \(Self.duration(value))") }
        if !timeouts.isEmpty { lines.append("    timeouts: {\(timeouts.joined(separator: ", "))}") }
        if let bandwidth = overrides.sessionBandwidth { lines.append("    bandwidth: \(Self.bandwidth(bandwidth))") }
        if let bandwidth = overrides.userBandwidth { lines.append("    bandwidth-per-user: \(Self.bandwidth(bandwidth))") }
        return lines
    }

    static func duration(_ amount: TimeAmount?) -> String {
        guard let amount, amount != .zero else { return "0  # disabled" }
        let nanoseconds = amount.nanoseconds
        for (unit, scale) in [("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000)] where nanoseconds % scale == 0 {
            return "\(nanoseconds / scale)\(unit)"
        }
        return "\(nanoseconds / 1_000_000)ms"
    }

    private static func bandwidth(_ bandwidth: Bandwidth?) -> String {
        guard let bandwidth, !bandwidth.isUnlimited else { return "unlimited" }
        var parts: [String] = []
        if let up = bandwidth.up { parts.append("up: \(ByteRateValue.format(up))") }
        if let down = bandwidth.down { parts.append("down: \(ByteRateValue.format(down))") }
        return "{\(parts.joined(separator: ", "))}"
    }
}
