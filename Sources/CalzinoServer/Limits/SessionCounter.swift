import CalzinoPolicy
import NIOConcurrencyHelpers
import NIOCore

/// Counts admitted sessions in all, per client (`ClientKey`: an IPv4 address or an IPv6 network) and per user, for the configured limits. A session
/// is counted from its request's admission until its client connection closes.
final class SessionCounter: Sendable {
    private struct Counts {
        var total = 0
        var perClient: [ClientKey: Int] = [:]
        var perUser: [String: Int] = [:]
    }

    private let counts = NIOLockedValueBox(Counts())

    /// Counts one more session, or returns which limit it would pass (and counts nothing).
    func admit(client: ClientKey, user: String?, limits: Limits) -> String? {
        self.counts.withLockedValue { counts in
            if let maximum = limits.maxSessions, counts.total >= maximum {
                return "max-sessions \(maximum)"
            }
            if let limit = limits.sessionsPerClient, counts.perClient[client, default: 0] >= limit {
                return "sessions-per-client \(limit)"
            }
            if let user, let limit = limits.sessionsPerUser, counts.perUser[user, default: 0] >= limit {
                return "sessions-per-user \(limit)"
            }
            counts.total += 1
            counts.perClient[client, default: 0] += 1
            if let user {
                counts.perUser[user, default: 0] += 1
            }
            return nil
        }
    }

    func release(client: ClientKey, user: String?) {
        self.counts.withLockedValue { counts in
            counts.total -= 1
            Self.decrement(&counts.perClient, client)
            if let user {
                Self.decrement(&counts.perUser, user)
            }
        }
    }

    private static func decrement<Key: Hashable>(_ table: inout [Key: Int], _ key: Key) {
        let left = (table[key] ?? 1) - 1
        table[key] = left > 0 ? left : nil  // no entry outlives its sessions
    }
}

extension SessionCounter {
    /// Counts the session of `channel` against the configured limits until the channel closes; returns the
    /// limit it would pass instead (and counts nothing). Without a session limit: no lock and no close
    /// callback per session (a limit set by a reload counts the sessions admitted after it).
    func count(_ channel: any Channel, client address: SocketAddress?, user: String?, limits: Limits) -> String? {
        guard limits.countsSessions else {
            return nil
        }
        let client = limits.clientKey(address)
        if let limit = self.admit(client: client, user: user, limits: limits) {
            return limit
        }
        channel.closeFuture.whenComplete { _ in
            self.release(client: client, user: user)
        }
        return nil
    }
}
