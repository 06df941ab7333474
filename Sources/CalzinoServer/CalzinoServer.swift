import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SOCKSCore
import ServiceLifecycle

/// The SOCKS4, SOCKS4a and SOCKS5 server: one or more listeners, each accepting all three versions.
///
/// As a `Service` it runs until graceful shutdown (SIGTERM or SIGINT under a `ServiceGroup`), then stops
/// accepting, lets open sessions finish up to the drain timeout, and closes what is left.
public final class CalzinoServer: Service, Sendable {
    private let configuration: CalzinoServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let accessLogger: Logger
    private let registry = SessionRegistry()
    private let admission = SessionAdmission()

    /// Descriptors kept for listeners, the event loops' own, standard streams and the resolver.
    static let reservedDescriptors = 64
    private let listenerChannels = NIOLockedValueBox<[any Channel]>([])

    public init(
        configuration: CalzinoServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "calzino"),
        accessLogger: Logger = Logger(label: "calzino.access")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.accessLogger = accessLogger
    }

    /// The number of client connections open now.
    public var openSessions: Int { self.registry.count }

    /// The bytes waiting in each open client connection's outbound buffer: what the relay holds in memory
    /// towards clients. For tests of the relay's memory bound.
    func clientBufferedBytes() async -> [Int] {
        var result: [Int] = []
        for channel in self.registry.snapshot {
            if let bytes = try? await channel.getOption(.bufferedWritableBytes).get() {
                result.append(bytes)
            }
        }
        return result
    }

    /// Binds every listener; returns the bound addresses (a port 0 becomes the real port).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        try self.configuration.validate()
        let baseSettings = SessionSettings(
            handshakeTimeout: self.configuration.handshakeTimeout,
            connectTimeout: self.configuration.connectTimeout,
            bindTimeout: self.configuration.bindTimeout,
            udpAdvertise: self.configuration.udpAdvertise,
            udpIdleTimeout: self.configuration.udpIdleTimeout,
            idleTimeout: self.configuration.idleTimeout,
            acceptedMethods: [.noAuthenticationRequired],
            dialer: self.configuration.dialer,
            logger: self.logger,
            accessLogger: self.accessLogger
        )
        let descriptors = FileDescriptorLimit.raiseSoftToHard()
        let fromDescriptors = max(1, (descriptors - Self.reservedDescriptors) / 2)
        let capacity = min(self.configuration.maxSessions ?? fromDescriptors, fromDescriptors)
        self.admission.setCapacity(capacity)
        self.logger.info(
            "session capacity",
            metadata: ["descriptor-limit": "\(descriptors)", "max-sessions": "\(capacity)"]
        )
        var bound: [SocketAddress] = []
        let all = self.configuration.listeners.map { ($0, false) } + self.configuration.optionalListeners.map { ($0, true) }
        for (address, optional) in all {
            var settings = baseSettings
            settings.users = self.configuration.users
            settings.acceptedMethods = settings.users == nil ? [.noAuthenticationRequired] : [.usernamePassword]
            settings.listenerName = self.configuration.listenerName(address)
            settings.rules = self.configuration.rules
            settings.protectedClasses = self.configuration.protectedClasses(forListener: address)
            do {
                let channel = try await self.bind(address, settings: settings)
                self.listenerChannels.withLockedValue { $0.append(channel) }
                if let local = channel.localAddress {
                    bound.append(local)
                    self.logger.info("listening", metadata: ["address": "\(SessionRecord.format(local))"])
                }
            } catch where optional {
                self.logger.warning(
                    "optional listener not started",
                    metadata: ["address": "\(SessionRecord.format(address))", "error": "\(error)"]
                )
            } catch {
                await self.closeListeners()
                throw error
            }
        }
        return bound
    }

    /// Stops accepting, waits for open sessions up to the drain timeout, then closes the rest.
    public func shutdown() async {
        await self.closeListeners()
        let open = self.registry.count
        if open > 0 {
            self.logger.info("draining", metadata: ["sessions": "\(open)", "timeout": "\(self.configuration.drainTimeout)"])
        }
        let left = await self.registry.drain(until: .now() + self.configuration.drainTimeout)
        if left > 0 {
            self.logger.notice("drain deadline passed, closing sessions", metadata: ["sessions": "\(left)"])
            self.registry.closeAll()
            _ = await self.registry.drain(until: .now() + .seconds(2))
        }
        self.logger.info("stopped")
    }

    public func run() async throws {
        try await self.start()
        // Returns on graceful shutdown; throws on cancellation. Either way the server stops the same way.
        try? await gracefulShutdown()
        await self.shutdown()
    }

    private func bind(_ address: SocketAddress, settings: SessionSettings) async throws -> any Channel {
        let registry = self.registry
        let admission = self.admission
        let logger = self.logger
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard admission.admit(open: registry.count, logger: logger) else {
                        // Over capacity: close at once rather than let the connection wait in silence.
                        channel.close(promise: nil)
                        return
                    }
                    registry.add(channel)
                    try RelayTuning.configure(channel)
                    let record = SessionRecord(clientAddress: channel.remoteAddress)
                    try channel.pipeline.syncOperations.addHandler(
                        SOCKSServerHandshakeHandler(settings: settings, record: record)
                    )
                }
            }
            .bind(to: address)
            .get()
    }

    private func closeListeners() async {
        let channels = self.listenerChannels.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        for channel in channels {
            try? await channel.close()
        }
    }
}
