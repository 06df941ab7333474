import CalzinoPolicy
import NIOConcurrencyHelpers

/// The buckets shared by all of a user's sessions: one per user, rule (or the global limit), direction and
/// rate, so that a reload with a new rate starts new buckets while old sessions keep theirs.
final class UserBuckets: Sendable {
    enum Direction: Hashable, Sendable {
        case up
        case down
    }

    private struct Key: Hashable {
        var user: String
        var scope: String
        var direction: Direction
        var rate: Int
    }

    private let buckets = NIOLockedValueBox<[Key: TokenBucket]>([:])

    func bucket(user: String, scope: String, direction: Direction, rate: Int) -> TokenBucket {
        let key = Key(user: user, scope: scope, direction: direction, rate: rate)
        return self.buckets.withLockedValue { buckets in
            if let bucket = buckets[key] { return bucket }
            let bucket = TokenBucket(rate: rate)
            buckets[key] = bucket
            return bucket
        }
    }
}
