import ArgumentParser
import CalzinoServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the SOCKS server.",
        discussion: """
            With no options: listens on 127.0.0.1:1080 and [::1]:1080, accepts SOCKS4, SOCKS4a and SOCKS5 \
            without authentication, and writes one access-log line per session to standard error.
            SIGINT or SIGTERM stop accepting, let open sessions finish for up to --drain-timeout, then exit 0.
            Durations take a unit: 500ms, 10s, 5m, 1h (seconds if none).
            """
    )

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Listen on HOST:PORT (IPv4, [IPv6] or localhost). Repeat for several; replaces the default 127.0.0.1:1080 and [::1]:1080.",
            valueName: "host:port"
        )
    )
    var listen: [String] = []

    @Option(help: ArgumentHelp("Close a client that has not completed its request within this time.", valueName: "duration"))
    var handshakeTimeout: String = "10s"

    @Option(help: ArgumentHelp("Give up an outbound connect (all addresses of a name) after this time: reply 0x04.", valueName: "duration"))
    var connectTimeout: String = "10s"

    @Option(help: ArgumentHelp("BIND: after the first reply, wait this long for the peer to connect; then reply 0x04 (SOCKS4: 0x5B).", valueName: "duration"))
    var bindTimeout: String = "60s"

    @Option(help: ArgumentHelp("UDP ASSOCIATE: name this IP in replies instead of the address the client reached (for a server behind NAT).", valueName: "ip"))
    var udpAdvertise: String?

    @Option(help: ArgumentHelp("UDP ASSOCIATE: end an association after this long without a datagram either way; 0 disables.", valueName: "duration"))
    var udpIdleTimeout: String = "2m"

    @Option(help: ArgumentHelp("Close a session in which no byte moved either way for this time; 0 disables.", valueName: "duration"))
    var idleTimeout: String = "1h"

    @Option(help: ArgumentHelp("On SIGINT/SIGTERM, let open sessions run this long before closing them.", valueName: "duration"))
    var drainTimeout: String = "30s"

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Access lines are info.", valueName: "level"))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("RFC 1929 users: a file of name:hash lines made with `calzino hash-password`. Every listener then requires SOCKS5 username/password and refuses SOCKS4.", valueName: "file"))
    var users: String?

    @Flag(help: "Run a listener on an address other than loopback without authentication (an open proxy). Without it, such a listener refuses to start.")
    var allowOpenProxy = false

    @Flag(help: "On listeners that face a network, let sessions reach loopback, private (RFC 1918, fc00::/7), link-local, metadata (169.254.169.254), multicast and unspecified destinations, which are denied there by default.")
    var allowPrivateDestinations = false

    @Option(help: ArgumentHelp("Concurrent sessions; more connections are closed at once. Default and upper bound: what the descriptor limit allows (raised to its hard limit at start).", valueName: "n"))
    var maxSessions: Int?

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level: '\(self.logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads: must be from 1 to 256")
        }
        if let maxSessions, maxSessions < 1 {
            throw ValidationError("--max-sessions: must be at least 1")
        }
        // The rest (addresses, durations, the users file) is checked once, when run() builds the configuration.
    }

    func makeConfiguration() throws -> CalzinoServerConfiguration {
        var configuration = CalzinoServerConfiguration()
        do {
            if !self.listen.isEmpty {
                configuration.listeners = try self.listen.flatMap(ListenAddress.parse)
            } else {
                // [::1] is optional by default: a host without IPv6 still gets its IPv4 loopback proxy.
                configuration.listeners = CalzinoServerConfiguration.defaultListeners.filter { $0.protocol == .inet }
                configuration.optionalListeners = CalzinoServerConfiguration.defaultListeners.filter { $0.protocol == .inet6 }
            }
        } catch let error as ConfigurationValueError {
            throw ValidationError("--listen \(error)")
        }
        configuration.handshakeTimeout = try Self.duration(self.handshakeTimeout, flag: "--handshake-timeout")
        configuration.connectTimeout = try Self.duration(self.connectTimeout, flag: "--connect-timeout")
        configuration.bindTimeout = try Self.duration(self.bindTimeout, flag: "--bind-timeout")
        let udpIdle = try Self.duration(self.udpIdleTimeout, flag: "--udp-idle-timeout")
        configuration.udpIdleTimeout = udpIdle == .zero ? nil : udpIdle
        if let advertise = self.udpAdvertise {
            let text = advertise.hasPrefix("[") && advertise.hasSuffix("]") ? String(advertise.dropFirst().dropLast()) : advertise
            guard let address = try? SocketAddress(ipAddress: text, port: 0) else {
                throw ValidationError("--udp-advertise '\(advertise)': not an IP address")
            }
            configuration.udpAdvertise = address
        }
        let idle = try Self.duration(self.idleTimeout, flag: "--idle-timeout")
        configuration.idleTimeout = idle == .zero ? nil : idle
        configuration.drainTimeout = try Self.duration(self.drainTimeout, flag: "--drain-timeout")
        configuration.maxSessions = self.maxSessions
        if let path = self.users {
            do {
                configuration.users = try UserStore.load(path: path)
            } catch let error as ConfigurationFileError {
                throw ValidationError("--users \(error)")
            }
        }
        configuration.allowOpenProxy = self.allowOpenProxy
        configuration.allowPrivateDestinations = self.allowPrivateDestinations
        do {
            try configuration.validate()
        } catch let error as ConfigurationValueError {
            throw ValidationError("--listen \(error)")
        }
        return configuration
    }

    private static func duration(_ text: String, flag: String) throws -> TimeAmount {
        do {
            return try DurationValue.parse(text)
        } catch let error as ConfigurationValueError {
            throw ValidationError("\(flag) \(error)")
        }
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "calzino")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads ?? System.coreCount)
        let server = CalzinoServer(configuration: configuration, group: group, logger: logger)
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("server failed", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        try? await group.shutdownGracefully()
    }
}
