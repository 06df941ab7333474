import CalzinoPolicy
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
    /// The configuration in force: replaced by `reload`, except for its listeners.
    private let current: NIOLockedValueBox<CalzinoServerConfiguration>
    /// What each listener's new sessions get, by the listener's position; replaced by `reload`.
    private let listenerSettings = NIOLockedValueBox<[Int: SessionSettings]>([:])
    /// The listeners as started, by position.
    private let listenerAddresses = NIOLockedValueBox<[Int: SocketAddress]>([:])
    private let group: any EventLoopGroup
    private let logger: Logger
    private let accessLogger: Logger
    private let sessionEnded: (@Sendable (CalzinoSessionSummary) -> Void)?
    private let registry = SessionRegistry()
    private let admission = SessionAdmission()
    private let limiters = SharedLimiters()
    private let metrics: ServerMetrics?
    private let draining = NIOLockedValueBox(false)

    /// Descriptors kept for listeners, the event loops' own, standard streams and the resolver.
    static let reservedDescriptors = 64
    private let listenerChannels = NIOLockedValueBox<[any Channel]>([])

    /// - Parameters:
    ///   - accessLogger: where the one access-log line per session goes (at `.info`).
    ///   - sessionEnded: called once per ended session with its summary, on the session's event loop; for
    ///     an embedder's accounting or metrics. `nil` costs nothing per session.
    public init(
        configuration: CalzinoServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "calzino"),
        accessLogger: Logger = Logger(label: "calzino.access"),
        sessionEnded: (@Sendable (CalzinoSessionSummary) -> Void)? = nil
    ) {
        self.sessionEnded = sessionEnded
        self.current = NIOLockedValueBox(configuration)
        self.metrics = configuration.metricsFactory.map(ServerMetrics.init(factory:))
        self.group = group
        self.logger = logger
        self.accessLogger = accessLogger
    }

    /// The shared limit state, for tests.
    var limitersForTests: SharedLimiters { self.limiters }

    /// The number of client connections open now.
    public var openSessions: Int { self.registry.count }

    /// The open sessions, the `limit` oldest, each read on its own event loop (the admin listener's
    /// `/sessions`).
    public func sessionSnapshots(limit: Int = 1000) async -> [CalzinoSessionSnapshot] {
        await self.registry.snapshots(limit: limit)
    }

    /// Whether a graceful shutdown has begun: the listeners are closed and open sessions drain (the admin
    /// listener's `/readyz` answers 503 then).
    public var isDraining: Bool {
        self.draining.withLockedValue { $0 }
    }

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

    var configuration: CalzinoServerConfiguration {
        self.current.withLockedValue { $0 }
    }

    /// Binds every listener; returns the bound addresses (a port 0 becomes the real port).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let configuration = self.configuration
        try configuration.validate()
        let descriptors = configuration.descriptorLimit ?? FileDescriptorLimit.raiseSoftToHard()
        let capacity = self.applyCapacity(configuration, descriptors: descriptors)
        self.logger.info(
            "connection capacity",
            metadata: ["descriptor-limit": "\(descriptors)", "max-connections": "\(capacity)"]
        )
        var bound: [SocketAddress] = []
        let all = configuration.listeners.map { ($0, false) } + configuration.optionalListeners.map { ($0, true) }
        for (index, (address, optional)) in all.enumerated() {
            self.listenerAddresses.withLockedValue { $0[index] = address }
            self.listenerSettings.withLockedValue { $0[index] = self.settings(forListener: address, configuration) }
            do {
                let channel = try await self.bind(address, listener: index)
                self.listenerChannels.withLockedValue { $0.append(channel) }
                if let local = channel.localAddress {
                    bound.append(local)
                    self.logger.info("listening", metadata: ["address": "\(AddressText.format(local))"])
                }
            } catch where optional {
                self.logger.warning(
                    "optional listener not started",
                    metadata: ["address": "\(AddressText.format(address))", "error": "\(error)"]
                )
            } catch {
                await self.closeListeners()
                throw error
            }
        }
        return bound
    }

    /// Puts a new configuration in force for new sessions; open sessions go on as they are. Listeners stay
    /// as started (a change to them needs a restart, and is logged). Throws, leaving the old configuration
    /// in force, if the new one does not validate with the listeners that will run: the ones already
    /// bound, not the ones the new file names (issue 12, defect 4: a file that moved its listener to
    /// loopback and dropped its users would otherwise open the old network listener).
    public func reload(_ configuration: CalzinoServerConfiguration) throws {
        let old = self.configuration
        var kept = configuration
        kept.listeners = old.listeners
        kept.optionalListeners = old.optionalListeners
        // The log handler is chosen at start: a reload that switched the access line's shape would hand raw
        // client text to a handler that does not escape it.
        kept.logFormat = old.logFormat
        try configuration.validate()
        try kept.validate()
        try Self.checkRuleListeners(kept.rules, running: old)
        if configuration.listeners != old.listeners || configuration.optionalListeners != old.optionalListeners {
            self.logger.warning("listener changes take effect on restart; the listeners stay as they are")
        }
        if configuration.logFormat != old.logFormat {
            self.logger.warning("log-format changes take effect on restart; the format stays as it is")
        }
        self.current.withLockedValue { $0 = kept }
        let addresses = self.listenerAddresses.withLockedValue { $0 }
        let settings = addresses.mapValues { self.settings(forListener: $0, kept) }
        self.listenerSettings.withLockedValue { $0 = settings }
        _ = self.applyCapacity(kept, descriptors: kept.descriptorLimit ?? FileDescriptorLimit.current())
    }

    /// A reload keeps the listeners of the start: a rule naming one that is not running (the new file's, or a
    /// new name for a running address) could never match, and a deny rule that never matches closes nothing.
    private static func checkRuleListeners(_ rules: AccessRules, running: CalzinoServerConfiguration) throws {
        let names = Set((running.listeners + running.optionalListeners).map(running.listenerName))
        for rule in rules.rules {
            if let unknown = rule.listeners?.subtracting(names).sorted().first {
                throw CalzinoServerError(
                    .unknownListener,
                    value: unknown,
                    problem: "rule '\(rule.name)' names a listener that is not running (listeners change on restart; running: \(names.sorted().joined(separator: ", ")))"
                )
            }
        }
    }

    /// Sets the connection capacity from the descriptor limit and `maxConnections`, and the descriptors
    /// sessions may hold (`DescriptorLedger`: what each really holds, so that UDP associations and BIND
    /// listeners count); returns the connection capacity.
    private func applyCapacity(_ configuration: CalzinoServerConfiguration, descriptors: Int) -> Int {
        let forSessions = max(descriptors - Self.reservedDescriptors, DescriptorLedger.perConnection)
        let fromDescriptors = max(1, forSessions / DescriptorLedger.perConnection)
        let capacity = min(configuration.limits.maxConnections ?? fromDescriptors, fromDescriptors)
        self.admission.setCapacity(capacity)
        self.limiters.descriptors.setCapacity(forSessions)
        return capacity
    }

    /// What a listener's new sessions get under `configuration`.
    private func settings(forListener address: SocketAddress, _ configuration: CalzinoServerConfiguration) -> SessionSettings {
        let protected = configuration.protectedClasses(forListener: address)
        return SessionSettings(
            timeouts: configuration.timeouts,
            udpAdvertise: configuration.udpAdvertise,
            udpClientPort: configuration.udpClientPort,
            udpReplies: configuration.udpReplies,
            acceptedMethods: configuration.users == nil ? [.noAuthenticationRequired] : [.usernamePassword],
            dialer: self.metrics.flatMap { metrics in (configuration.dialer as? DirectDialer)?.timingLookups(metrics.dnsDuration) } ?? configuration.dialer,
            users: configuration.users,
            listenerName: configuration.listenerName(address),
            rules: configuration.rules,
            protectedClasses: protected,
            listenerPolicy: .denying(protected),
            limits: configuration.limits,
            shared: self.limiters,
            ident: configuration.ident,
            identPort: configuration.identPort,
            logger: self.logger,
            accessLogger: self.accessLogger,
            logFormat: configuration.logFormat,
            metrics: self.metrics,
            sessionEnded: self.sessionEnded
        )
    }

    /// Stops accepting, waits for open sessions up to the drain timeout, then closes the rest.
    public func shutdown() async {
        self.draining.withLockedValue { $0 = true }
        await self.closeListeners()
        let open = self.registry.count
        if open > 0 {
            self.logger.info("draining", metadata: ["sessions": "\(open)", "timeout": "\(self.configuration.timeouts.drain)"])
        }
        let left = await self.registry.drain(until: .now() + self.configuration.timeouts.drain)
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

    private func bind(_ address: SocketAddress, listener: Int) async throws -> any Channel {
        let registry = self.registry
        let listenerSettings = self.listenerSettings
        let admission = self.admission
        let descriptors = self.limiters.descriptors
        let metrics = self.metrics
        let logger = self.logger
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard admission.admit(open: registry.count, logger: logger) else {
                        // Over capacity: close at once rather than let the connection wait in silence.
                        metrics?.connectionRefused(.capacity)
                        channel.close(promise: nil)
                        return
                    }
                    guard let settings = listenerSettings.withLockedValue({ $0[listener] }) else {
                        channel.close(promise: nil)
                        return
                    }
                    if let perSecond = settings.limits.handshakesPerClientPerSecond,
                        case let client = settings.limits.clientKey(channel.remoteAddress),
                        !settings.shared.handshakes.allow(client: client, perSecond: perSecond)
                    {
                        // No request has been read, so there is nothing to reply to: close at once.
                        settings.shared.handshakeWarning.record(logger, metadata: ["client": "\(client)", "limit": "\(perSecond)/s"])
                        metrics?.connectionRefused(.rate)
                        channel.close(promise: nil)
                        return
                    }
                    guard descriptors.admitConnection(logger: logger) else {
                        metrics?.connectionRefused(.capacity)
                        channel.close(promise: nil)
                        return
                    }
                    // Nothing fails between taking the descriptors and registering: the registry gives them
                    // back when the connection closes (one close callback for both).
                    let record = registry.add(channel, holding: descriptors) { SessionRecord(id: $0, clientAddress: channel.remoteAddress, metrics: metrics) }
                    try RelayTuning.configure(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        SessionHandler(settings: settings, record: record)
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
