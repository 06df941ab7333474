import ArgumentParser
import CalzinoAdmin
import CalzinoConfiguration
import CalzinoServer
import Glibc
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the SOCKS server.",
        discussion: """
            With no options: listens on 127.0.0.1:1080 and [::1]:1080, accepts SOCKS4, SOCKS4a and SOCKS5 \
            without authentication, and writes one access-log line per session to standard error.
            With --config FILE the file's settings apply and flags given on the command line override them; \
            SIGHUP reloads the file (new sessions get the new rules, users and limits; open sessions go on).
            SIGINT or SIGTERM stop accepting, let open sessions finish for up to --drain-timeout, then exit 0.
            Durations take a unit: 500ms, 10s, 5m, 1h (seconds if none).
            """
    )

    @OptionGroup var flags: ServeFlags

    func validate() throws {
        try self.flags.validate()
    }

    func run() async throws {
        HeapTuning.apply()
        let flagOptions = try self.flags.options()
        let configPath = self.flags.config
        let options = try ServeFlags.effectiveOptions(file: configPath, flags: flagOptions)
        var configuration = try ServeFlags.configuration(from: options)
        // The admin listener, if any: checked before anything starts, as the SOCKS listeners are.
        let admin = try options.admin.map { admin in
            let configuration = AdminConfiguration(address: admin.address, token: try admin.token())
            try configuration.validate()
            return configuration
        }
        let registry = PrometheusCollectorRegistry()
        if admin != nil {
            configuration.metricsFactory = AdminMetrics.factory(registry: registry)
        }
        let level = Logger.Level(rawValue: options.logLevel ?? "info") ?? .info
        let json = options.logFormat == .json
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "calzino")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads ?? System.coreCount)
        let server = CalzinoServer(configuration: configuration, group: group, logger: logger)
        // A user or group that cannot be had is an error before anything is bound.
        let ids: (uid: uid_t?, gid: gid_t?)
        do {
            ids = try PrivilegeDrop.check(user: options.user, group: options.group)
        } catch {
            logger.error("server failed", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        let adminServer = admin.map { AdminServer(configuration: $0, server: server, registry: registry, group: group, logger: logger) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ServeService(server: server, admin: adminServer, uid: ids.uid, gid: ids.gid, logger: logger)),
        ]
        if let configPath {
            services.append(.init(service: ConfigurationReloader(path: configPath, flags: flagOptions, server: server, logger: logger)))
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
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
