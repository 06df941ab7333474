import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs password verifications off the event loops, a bounded number at a time. Each scrypt check holds
/// its memory (16 MiB with the default parameters, up to 64 MiB) and a core for tens of milliseconds: a
/// flood of logins must not start them all at once. Checks beyond the workers wait in a bounded queue;
/// beyond that they are refused at once.
final class VerificationPool: Sendable {
    static let shared = VerificationPool(workers: max(System.coreCount, 2), queueLimit: 256)

    enum Submission: Equatable {
        case started
        case queued
        case refused
    }

    private struct State {
        var running = 0
        var waiting = CircularBuffer<@Sendable () -> Void>()
    }

    let workers: Int
    let queueLimit: Int
    private let state = NIOLockedValueBox(State())

    init(workers: Int, queueLimit: Int) {
        self.workers = max(workers, 1)
        self.queueLimit = max(queueLimit, 0)
    }

    /// Runs `work` on a worker thread when one is free.
    @discardableResult
    func submit(_ work: @escaping @Sendable () -> Void) -> Submission {
        let submission: Submission = self.state.withLockedValue { state in
            if state.running < self.workers {
                state.running += 1
                return .started
            }
            guard state.waiting.count < self.queueLimit else { return .refused }
            state.waiting.append(work)
            return .queued
        }
        if submission == .started {
            self.run(work)
        }
        return submission
    }

    private func run(_ work: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async {
            work()
            // The worker takes the next waiting check, or is given back.
            let next: (@Sendable () -> Void)? = self.state.withLockedValue { state in
                if let next = state.waiting.popFirst() { return next }
                state.running -= 1
                return nil
            }
            if let next {
                self.run(next)
            }
        }
    }

    var waiting: Int {
        self.state.withLockedValue { $0.waiting.count }
    }
}
