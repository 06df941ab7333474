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

    private struct Table {
        var buckets: [Key: TokenBucket] = [:]
        /// The size at which the next prune runs: doubles while every bucket is held, so that a table of
        /// buckets in use is not scanned on every new session.
        var pruneAt = UserBuckets.pruneAbove
    }

    /// Users are few when they are password users, but ident-confirmed names are whatever a client's identd
    /// says (issue 12, defect 10): past this size, buckets no session holds are dropped.
    static let pruneAbove = 1024

    private let table = NIOLockedValueBox(Table())

    func bucket(user: String, scope: String, direction: Direction, rate: Int) -> TokenBucket {
        let key = Key(user: user, scope: scope, direction: direction, rate: rate)
        return self.table.withLockedValue { table in
            if let bucket = table.buckets[key] { return bucket }
            let bucket = TokenBucket(rate: rate)
            table.buckets[key] = bucket
            if table.buckets.count > table.pruneAt {
                Self.prune(&table)
            }
            return bucket
        }
    }

    /// The number of buckets kept, for tests.
    var count: Int {
        self.table.withLockedValue { $0.buckets.count }
    }

    /// Drops the buckets that no session holds and that owe nothing. A bucket starts empty, so one made
    /// again later gives its user nothing the dropped one would not have.
    private static func prune(_ table: inout Table) {
        for key in Array(table.buckets.keys) {
            guard var bucket = table.buckets.removeValue(forKey: key) else { continue }
            if !isKnownUniquelyReferenced(&bucket) || bucket.owes {
                table.buckets[key] = bucket
            }
        }
        table.pruneAt = max(Self.pruneAbove, table.buckets.count * 2)
    }
}
