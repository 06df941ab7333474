import CalzinoPolicy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Wraps a resolver and drops the addresses a destination policy denies, so that the connect never tries
/// them: a name that resolves to a denied address is denied (no DNS-rebinding way around the policy).
final class FilteringResolver: Resolver, Sendable {
    private let inner: any Resolver & Sendable
    private let policy: DestinationPolicy
    private let counts = NIOLockedValueBox((permitted: 0, denied: 0))

    init(inner: any Resolver & Sendable, policy: DestinationPolicy) {
        self.inner = inner
        self.policy = policy
    }

    /// Every address the name resolved to was denied.
    var deniedEverything: Bool {
        self.counts.withLockedValue { $0.denied > 0 && $0.permitted == 0 }
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.inner.initiateAQuery(host: host, port: port).map(self.filter)
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.inner.initiateAAAAQuery(host: host, port: port).map(self.filter)
    }

    func cancelQueries() {
        self.inner.cancelQueries()
    }

    private func filter(_ addresses: [SocketAddress]) -> [SocketAddress] {
        let permitted = addresses.filter(self.policy.permits)
        self.counts.withLockedValue {
            $0.permitted += permitted.count
            $0.denied += addresses.count - permitted.count
        }
        return permitted
    }
}
