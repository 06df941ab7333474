import ArgumentParser
import CalzinoPolicy
import CalzinoConfiguration
import CalzinoServer
import Logging
import NIOCore

/// The options of `calzino serve` and `calzino check-config` as flags. Each has a form in the configuration
/// file; a flag that is given overrides the file.
struct ServeFlags: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML configuration file (see docs/configuration.md). Flags override it; SIGHUP reloads it.", valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Listen on HOST:PORT (IPv4, [IPv6] or localhost). Repeat for several; replaces the default 127.0.0.1:1080 and [::1]:1080 (file: listen).",
            valueName: "host:port"
        )
    )
    var listen: [String] = []

    @Option(help: ArgumentHelp("Close a client that has not completed its request within this time; default 10s (file: timeouts.handshake).", valueName: "duration"))
    var handshakeTimeout: String?

    @Option(help: ArgumentHelp("Give up an outbound connect (all addresses of a name) after this time: reply 0x04; default 10s (file: timeouts.connect).", valueName: "duration"))
    var connectTimeout: String?

    @Option(help: ArgumentHelp("BIND: after the first reply, wait this long for the peer; then reply 0x04 (SOCKS4: 0x5B); default 60s (file: timeouts.bind).", valueName: "duration"))
    var bindTimeout: String?

    @Option(help: ArgumentHelp("UDP ASSOCIATE: name this IP in replies instead of the address the client reached (for a server behind NAT) (file: udp-advertise).", valueName: "ip"))
    var udpAdvertise: String?

    @Option(help: ArgumentHelp("UDP ASSOCIATE: 'declared' (default) serves only a client that names its UDP port in the request, so nobody can race it for the association; 'first' also serves port 0 and pins the first datagram's port, for clients behind a NAT (file: udp-client-port).", valueName: "mode"))
    var udpClientPort: String?

    @Option(help: ArgumentHelp("UDP ASSOCIATE: 'sent-to' (default) passes datagrams back only from addresses and ports the association sent to; 'any' from anyone (file: udp-replies).", valueName: "mode"))
    var udpReplies: String?

    @Option(help: ArgumentHelp("UDP ASSOCIATE: end an association after this long without a datagram either way; 0 disables; default 2m (file: timeouts.udp-idle).", valueName: "duration"))
    var udpIdleTimeout: String?

    @Option(help: ArgumentHelp("Close a session in which no byte moved either way for this time; 0 disables; default 1h (file: timeouts.idle).", valueName: "duration"))
    var idleTimeout: String?

    @Option(help: ArgumentHelp("On SIGINT/SIGTERM, let open sessions run this long before closing them; default 30s (file: timeouts.drain).", valueName: "duration"))
    var drainTimeout: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical; default info. Access lines are info (file: log-level).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("text (default) or json: one JSON object per line, the access line's fields and a session id (file: log-format).", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("Event-loop threads; default one per core (file: threads).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("RFC 1929 users: a file of name:hash lines made with `calzino hash-password`. Every listener then requires SOCKS5 username/password; SOCKS4 needs a rule (file: users-file).", valueName: "file"))
    var users: String?

    @Flag(help: "Run a listener on an address other than loopback without authentication (an open proxy). Without it, such a listener refuses to start (file: allow-open-proxy).")
    var allowOpenProxy = false

    @Flag(help: "On listeners that face a network, let sessions reach loopback, private (RFC 1918, fc00::/7), link-local, metadata (169.254.169.254), multicast and unspecified destinations, which are denied there unless a rule names them (file: allow-private-destinations).")
    var allowPrivateDestinations = false

    @Option(help: ArgumentHelp("Concurrent sessions; a request beyond it is refused with 0x01 (SOCKS4: 0x5B). Default: no limit but --max-connections (file: limits.max-sessions).", valueName: "n"))
    var maxSessions: Int?

    @Option(help: ArgumentHelp("Client connections open at once, handshakes included; more are closed at once. Default and upper bound: what the descriptor limit allows, raised to its hard limit at start (file: limits.max-connections).", valueName: "n"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("RFC 1413 check of SOCKS4 requests: off (default), optional or required (file: ident).", valueName: "mode"))
    var ident: String?

    @Option(help: ArgumentHelp("Serve /metrics (Prometheus), /sessions, /healthz, /readyz and a status page on HOST:PORT; loopback only unless the file gives a token (file: admin).", valueName: "host:port"))
    var admin: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        // The same bounds as the file's keys (threads; limits.max-sessions, limits.max-connections).
        let threads = ServeOptions.threadRange
        if let value = self.threads, !threads.contains(value) {
            throw ValidationError("--threads: must be from \(threads.lowerBound) to \(threads.upperBound)")
        }
        let counts = Limits.countRange
        for (flag, value) in [("--max-sessions", self.maxSessions), ("--max-connections", self.maxConnections)] {
            if let value, !counts.contains(value) {
                throw ValidationError("\(flag): must be from \(counts.lowerBound) to \(counts.upperBound)")
            }
        }
        if let ident, IdentMode(rawValue: ident) == nil {
            throw ValidationError("--ident: '\(ident)' is not one of off, optional, required")
        }
        if let format = self.logFormat, LogFormat(rawValue: format) == nil {
            throw ValidationError("--log-format: '\(format)' is not one of text, json")
        }
        if let mode = self.udpClientPort, UDPClientPort(rawValue: mode) == nil {
            throw ValidationError("--udp-client-port: '\(mode)' is not one of declared, first")
        }
        if let mode = self.udpReplies, UDPReplies(rawValue: mode) == nil {
            throw ValidationError("--udp-replies: '\(mode)' is not one of sent-to, any")
        }
        // The rest (addresses, durations, files) is checked once, when the options are built.
    }

    /// The options the command line gives; the ones it leaves out stay `nil`.
    func options() throws -> ServeOptions {
        var options = ServeOptions()
        if !self.listen.isEmpty {
            options.listen = try self.listen.map { text in
                do {
                    return ServeOptions.Listener(addresses: try ListenAddress.parse(text))
                } catch let error as ConfigurationValueError {
                    throw ValidationError("--listen \(error)")
                }
            }
        }
        let durations: [(Timeouts.Key, String?)] = [
            (.handshake, self.handshakeTimeout), (.connect, self.connectTimeout), (.bind, self.bindTimeout),
            (.udpIdle, self.udpIdleTimeout), (.idle, self.idleTimeout), (.drain, self.drainTimeout),
        ]
        for (key, text) in durations {
            options.timeouts[key] = try Self.duration(text, flag: "--\(key.rawValue)-timeout")
        }
        if let advertise = self.udpAdvertise {
            guard let address = IPAddressValue.parse(advertise) else {
                throw ValidationError("--udp-advertise '\(advertise)': not an IP address")
            }
            options.udpAdvertise = address
        }
        options.logLevel = self.logLevel
        options.logFormat = self.logFormat.flatMap(LogFormat.init(rawValue:))
        options.threads = self.threads
        options.usersFile = self.users
        options.limits.maxSessions = self.maxSessions
        options.limits.maxConnections = self.maxConnections
        options.ident = self.ident.flatMap(IdentMode.init(rawValue:))
        if let admin = self.admin {
            guard let address = (try? ListenAddress.parse(admin))?.first else {
                throw ValidationError("--admin '\(admin)': expected HOST:PORT")
            }
            options.admin = ServeOptions.Admin(address: address)
        }
        options.udpClientPort = self.udpClientPort.flatMap(UDPClientPort.init(rawValue:))
        options.udpReplies = self.udpReplies.flatMap(UDPReplies.init(rawValue:))
        // A flag can only turn these on; leaving it out keeps the file's value.
        options.allowOpenProxy = self.allowOpenProxy ? true : nil
        options.allowPrivateDestinations = self.allowPrivateDestinations ? true : nil
        return options
    }

    /// The file's options (if any) with the flags over them.
    static func effectiveOptions(file: String?, flags: ServeOptions) throws -> ServeOptions {
        guard let file else { return flags }
        do {
            return try ServeOptions.load(path: file).merging(flags)
        } catch let error as ConfigurationFileError {
            throw ValidationError("\(error)")
        }
    }

    /// The server configuration, with errors worded for the command line.
    static func configuration(from options: ServeOptions) throws -> CalzinoServerConfiguration {
        do {
            return try options.makeConfiguration()
        } catch let error as ConfigurationFileError {
            throw ValidationError("\(error)")
        } catch let error as ConfigurationValueError {
            throw ValidationError("--listen \(error)")
        }
    }

    private static func duration(_ text: String?, flag: String) throws -> TimeAmount? {
        guard let text else { return nil }
        do {
            return try DurationValue.parse(text)
        } catch let error as ConfigurationValueError {
            throw ValidationError("\(flag) \(error)")
        }
    }
}
