import NIOConcurrencyHelpers
import NIOCore

/// A token bucket in bytes: `rate` tokens a second, at most `burst` saved up. A reader reserves a read's
/// worth before reading, which may drive the bucket into debt, waits until its reservation is covered,
/// then gives back what the read did not use. That keeps the average at the rate without ever holding
/// data back in a buffer (the bytes wait in the kernel, and the sender slows down). Shared by sessions on several event
/// loops (a user's bucket), so it locks.
final class TokenBucket: Sendable {
    let rate: Int
    let burst: Int
    private let state: NIOLockedValueBox<(tokens: Double, updated: NIODeadline)>

    /// The bucket starts empty and saves up at most 250 ms of the rate (at least 4 KiB): a reader whose
    /// wake-up comes late on a busy loop keeps what it was owed, and a session starts at the rate, not above.
    init(rate: Int, now: NIODeadline = .now()) {
        self.rate = max(rate, 1)
        self.burst = max(self.rate / 4, 4096)
        self.state = NIOLockedValueBox((0, now))
    }

    /// Takes `bytes` tokens ahead of a read; returns how long to wait before reading, `nil` for no wait.
    /// Readers that reserve in turn wait in turn, which shares a user's bucket fairly among its sessions.
    func reserve(_ bytes: Int, now: NIODeadline = .now()) -> TimeAmount? {
        self.state.withLockedValue { state -> TimeAmount? in
            self.refill(&state, now: now)
            state.tokens -= Double(bytes)
            guard state.tokens < 0 else { return nil }
            let seconds = min(-state.tokens / Double(self.rate), 3600)
            return .nanoseconds(Int64(seconds * 1_000_000_000))
        }
    }

    /// Gives back reserved tokens a read did not use (negative: takes the bytes it read beyond them).
    func settle(_ unused: Int, now: NIODeadline = .now()) {
        self.state.withLockedValue { state in
            self.refill(&state, now: now)
            state.tokens = min(Double(self.burst), state.tokens + Double(unused))
        }
    }

    /// Whether the bucket holds anything: a datagram passes then, taken whole by `charge` (which may put
    /// the bucket in debt and so keeps the average at the rate), and is refused while it is in debt.
    func hasTokens(now: NIODeadline = .now()) -> Bool {
        self.state.withLockedValue { state in
            self.refill(&state, now: now)
            return state.tokens > 0
        }
    }

    /// Takes `bytes` tokens, into debt if need be.
    func charge(_ bytes: Int, now: NIODeadline = .now()) {
        self.state.withLockedValue { state in
            self.refill(&state, now: now)
            state.tokens -= Double(bytes)
        }
    }

    /// Whether readers have taken more than the bucket held (a reservation not yet covered).
    var owes: Bool {
        self.state.withLockedValue { state in
            self.refill(&state, now: .now())
            return state.tokens < 0
        }
    }

    private func refill(_ state: inout (tokens: Double, updated: NIODeadline), now: NIODeadline) {
        let elapsed = Double(max((now - state.updated).nanoseconds, 0)) / 1_000_000_000
        state.tokens = min(Double(self.burst), state.tokens + elapsed * Double(self.rate))
        state.updated = now
    }
}
