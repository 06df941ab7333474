import CalzinoPolicy
import NIOConcurrencyHelpers
import NIOCore

/// New connections per client (`ClientKey`) per second: a token bucket per client holding one second's worth.
/// Buckets that have filled up again are dropped when the table grows, so a scan from many addresses
/// cannot grow it without bound.
final class HandshakeRateLimiter: Sendable {
    private static let pruneAbove = 4096
    private let table = NIOLockedValueBox<[ClientKey: (tokens: Double, updated: NIODeadline)]>([:])

    /// Whether a new connection from `client` is within `perSecond`.
    func allow(client: ClientKey, perSecond: Int, now: NIODeadline = .now()) -> Bool {
        let rate = Double(perSecond)
        return self.table.withLockedValue { table in
            var entry = table[client] ?? (rate, now)
            let elapsed = Double(max((now - entry.updated).nanoseconds, 0)) / 1_000_000_000
            entry.tokens = min(rate, entry.tokens + elapsed * rate)
            entry.updated = now
            let allowed = entry.tokens >= 1
            if allowed { entry.tokens -= 1 }
            table[client] = entry
            if table.count > Self.pruneAbove {
                table = table.filter { _, value in
                    value.tokens + Double(max((now - value.updated).nanoseconds, 0)) / 1_000_000_000 * rate < rate
                }
            }
            return allowed
        }
    }
}
