import CalzinoServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The admin listener (issue 13): HTTP/1.1 on NIOHTTP1, off by default. As a `Service` it listens until
/// graceful shutdown and closes with the server.
public final class AdminServer: Service, Sendable {
    private let configuration: AdminConfiguration
    private let routes: AdminRoutes
    private let group: any EventLoopGroup
    private let logger: Logger
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    private let connections = NIOLockedValueBox(0)

    /// Admin connections open at once; more are closed at accept (they share the process's descriptors).
    public static let maximumConnections = 32
    /// An admin connection with no request moving for this long is closed.
    public static let idleTimeout = TimeAmount.seconds(20)

    /// - Parameter registry: the registry the server's metrics go to (the `PrometheusMetricsFactory` given
    ///   to it as `metricsFactory`).
    public init(
        configuration: AdminConfiguration,
        server: CalzinoServer,
        registry: PrometheusCollectorRegistry,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "calzino.admin")
    ) {
        self.configuration = configuration
        self.routes = AdminRoutes(server: server, registry: registry, token: configuration.token)
        self.group = group
        self.logger = logger
    }

    /// Binds the listener; returns its address (a port 0 becomes the real port).
    @discardableResult
    public func start() async throws -> SocketAddress {
        try self.configuration.validate()
        let routes = self.routes
        let connections = self.connections
        let channel = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let admitted = connections.withLockedValue { count -> Bool in
                        guard count < Self.maximumConnections else { return false }
                        count += 1
                        return true
                    }
                    guard admitted else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in connections.withLockedValue { $0 -= 1 } }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(routes: routes))
                }
            }
            .bind(to: self.configuration.address)
            .get()
        self.channel.withLockedValue { $0 = channel }
        let address = channel.localAddress ?? self.configuration.address
        self.logger.info("admin listener started", metadata: ["admin": "\(AddressText.format(address))"])
        return address
    }

    public func stop() async {
        let channel = self.channel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }

    public func run() async throws {
        try await self.start()
        try? await gracefulShutdown()
        await self.stop()
    }
}
