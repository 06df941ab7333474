import NIOCore

/// Decides idleness by sampling an activity counter a few times per timeout, instead of stamping the
/// time on every read or datagram: a session goes idle between 1 and 1.25 timeouts after its last activity.
/// Shared by relayed sessions (bytes moved) and UDP associations (datagrams moved).
struct IdleSampler {
    static let checksPerTimeout = 4

    /// How often to sample for `timeout`.
    let interval: TimeAmount
    private var lastCount = -1
    private var quietChecks = 0

    init(timeout: TimeAmount) {
        self.interval = .nanoseconds(max(timeout.nanoseconds / Int64(Self.checksPerTimeout), 1_000_000))
    }

    /// Records one sample of the counter; `true` once it has not moved for a whole timeout.
    mutating func sample(_ count: Int) -> Bool {
        if count == self.lastCount {
            self.quietChecks += 1
        } else {
            self.lastCount = count
            self.quietChecks = 0
        }
        return self.quietChecks >= Self.checksPerTimeout
    }
}
