import NIOConcurrencyHelpers

/// Name lookups for datagrams in flight across all associations (issue 12, defect 8): each blocks a thread
/// of the resolver's pool, so a few clients sending to fresh names must not take them all. Half the pool:
/// CONNECT and BIND names always have the other half.
final class UDPLookupBudget: Sendable {
    static let total = ConcurrentResolver.lookupThreadCount / 2

    private let inFlight = NIOLockedValueBox(0)

    /// Takes one lookup from the budget; `false` when it is spent.
    func acquire() -> Bool {
        self.inFlight.withLockedValue { count in
            guard count < Self.total else { return false }
            count += 1
            return true
        }
    }

    func release() {
        self.inFlight.withLockedValue { $0 = max($0 - 1, 0) }
    }
}
