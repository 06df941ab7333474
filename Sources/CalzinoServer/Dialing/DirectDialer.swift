import CalzinoPolicy
import CoreMetrics
import NIOCore
import NIOPosix
import SOCKSCore

/// Connects straight to the destination: an address as given, a name through happy eyeballs (RFC 8305) over
/// every address the resolver returns, both families racing.
public struct DirectDialer: SOCKSDialer {
    /// Makes the resolver for one connection attempt; NIO's happy-eyeballs connector asks it for A and AAAA.
    public typealias ResolverFactory = @Sendable (any EventLoop) -> any Resolver & Sendable

    private let makeResolver: ResolverFactory
    /// Whether the resolver is the built-in one, which the server can time (`timingLookups`).
    private let builtInResolver: Bool
    /// The built-in resolver's blocking call.
    private let lookup: BlockingLookup

    public init(resolver: @escaping ResolverFactory) {
        self.makeResolver = resolver
        self.builtInResolver = false
        self.lookup = .system
    }

    public init() {
        self.init(lookup: .system)
    }

    /// The built-in resolver with its blocking call replaced (tests give it one that blocks on purpose).
    public init(lookup: BlockingLookup) {
        self.makeResolver = { ConcurrentResolver(eventLoop: $0, lookup: lookup) }
        self.builtInResolver = true
        self.lookup = lookup
    }

    private init(timer: any TimerHandler, lookup: BlockingLookup) {
        self.makeResolver = { ConcurrentResolver(eventLoop: $0, timer: timer, lookup: lookup) }
        self.builtInResolver = true
        self.lookup = lookup
    }

    /// This dialer with its lookups timed by `timer`, when it uses the built-in resolver.
    func timingLookups(_ timer: any TimerHandler) -> DirectDialer {
        self.builtInResolver ? DirectDialer(timer: timer, lookup: self.lookup) : self
    }

    public func dial(_ destination: SOCKSEndpoint, on eventLoop: any EventLoop, timeout: TimeAmount, policy: DestinationPolicy) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try RelayTuning.configure(channel)
                    try channel.syncOptions?.setOption(.autoRead, value: false)
                }
            }
        if let address = destination.socketAddress {
            if let denial = policy.denial(of: address) {
                return eventLoop.makeFailedFuture(DestinationDenied(destination: "\(destination)", reason: denial))
            }
            return bootstrap.connect(to: address)
        }
        guard case .name(let name) = destination.host, !name.utf8.contains(0) else {
            return eventLoop.makeFailedFuture(ResolutionError(name: "\(destination.host)"))
        }
        let resolver = FilteringResolver(inner: self.makeResolver(eventLoop), policy: policy)
        return bootstrap.resolver(resolver).connect(host: name, port: Int(destination.port)).flatMapErrorThrowing { error in
            if let denial = resolver.deniedEverything {
                throw DestinationDenied(destination: "\(destination)", reason: denial)
            }
            throw error
        }
    }
}
