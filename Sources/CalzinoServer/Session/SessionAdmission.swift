import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Decides whether a new client connection may open a session, and reports refusals without flooding the
/// log: one warning at most every five seconds, with the count refused since the last one.
final class SessionAdmission: Sendable {
    private struct State {
        var capacity = Int.max
        var refusedSinceWarning = 0
        var lastWarning: NIODeadline?
    }

    private static let warningInterval = TimeAmount.seconds(5)
    private let state = NIOLockedValueBox(State())

    func setCapacity(_ capacity: Int) {
        self.state.withLockedValue { $0.capacity = capacity }
    }

    var capacity: Int {
        self.state.withLockedValue { $0.capacity }
    }

    /// Whether one more session fits beside `open` ones; a refusal is counted and, now and then, logged.
    func admit(open: Int, logger: Logger) -> Bool {
        let capacity = self.capacity
        guard open >= capacity else { return true }
        let report: Int? = self.state.withLockedValue { state in
            state.refusedSinceWarning += 1
            let now = NIODeadline.now()
            if let last = state.lastWarning, now - last < Self.warningInterval {
                return nil
            }
            state.lastWarning = now
            defer { state.refusedSinceWarning = 0 }
            return state.refusedSinceWarning
        }
        if let refused = report {
            logger.warning(
                "session capacity reached, refusing connections",
                metadata: ["max-sessions": "\(capacity)", "refused": "\(refused)"]
            )
        }
        return false
    }
}
