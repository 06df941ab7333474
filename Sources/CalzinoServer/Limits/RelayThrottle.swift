import NIOCore

/// The buckets one direction of a session reads against: its own, its user's, or both. The relay reserves
/// a read's worth before each read and pauses reading (backpressure to the sender) until every bucket
/// covers it.
struct RelayThrottle {
    let buckets: [TokenBucket]

    /// `nil` when no bucket applies.
    init?(_ buckets: [TokenBucket?]) {
        let present = buckets.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        self.buckets = present
    }

    /// Reserves `bytes` in every bucket; returns how long to wait before reading.
    func reserve(_ bytes: Int) -> TimeAmount? {
        let now = NIODeadline.now()
        return self.buckets.compactMap { $0.reserve(bytes, now: now) }.max()
    }

    /// Whether a datagram of `bytes` may pass now; if so it is taken from every bucket. A datagram cannot
    /// wait for its turn as a stream's read does: beyond the rate it is dropped.
    func admitDatagram(_ bytes: Int) -> Bool {
        let now = NIODeadline.now()
        guard self.buckets.allSatisfy({ $0.hasTokens(now: now) }) else { return false }
        for bucket in self.buckets {
            bucket.charge(bytes, now: now)
        }
        return true
    }

    /// After a read burst: returns the reserved bytes it did not use (negative: takes what it read beyond).
    func settle(_ unused: Int) {
        guard unused != 0 else { return }
        let now = NIODeadline.now()
        for bucket in self.buckets {
            bucket.settle(unused, now: now)
        }
    }

    /// The size of every read (and reservation): an eighth of a second at the slowest rate, between 2 KiB
    /// and 64 KiB, so that one read cannot overshoot the rate by much and a limited direction keeps at most
    /// 64 KiB of receive buffer.
    var maximumRead: Int {
        let slowest = self.buckets.map(\.rate).min() ?? Int.max
        return min(max(slowest / 8, 2048), 64 * 1024)
    }
}
