import CalzinoPolicy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Wraps a resolver and drops the addresses a destination policy denies, so that the connect never tries
/// them: a name that resolves to a denied address is denied (no DNS-rebinding way around the policy).
final class FilteringResolver: Resolver, Sendable {
    private let inner: any Resolver & Sendable
    private let policy: DestinationPolicy
    private let counts = NIOLockedValueBox((permitted: 0, denied: 0, firstDenial: DenialReason?.none))

    init(inner: any Resolver & Sendable, policy: DestinationPolicy) {
        self.inner = inner
        self.policy = policy
    }

    /// Why the first denied address was denied, when every address the name resolved to was denied.
    var deniedEverything: DenialReason? {
        self.counts.withLockedValue { $0.denied > 0 && $0.permitted == 0 ? $0.firstDenial : nil }
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.inner.initiateAQuery(host: host, port: port).map { self.filter($0, name: host) }
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.inner.initiateAAAAQuery(host: host, port: port).map { self.filter($0, name: host) }
    }

    func cancelQueries() {
        self.inner.cancelQueries()
    }

    private func filter(_ addresses: [SocketAddress], name: String) -> [SocketAddress] {
        var permitted: [SocketAddress] = []
        var firstDenial: DenialReason?
        for address in addresses {
            if let denial = self.policy.denial(of: address, name: name) {
                firstDenial = firstDenial ?? denial
            } else {
                permitted.append(address)
            }
        }
        self.counts.withLockedValue {
            $0.permitted += permitted.count
            $0.denied += addresses.count - permitted.count
            $0.firstDenial = $0.firstDenial ?? firstDenial
        }
        return permitted
    }
}
