import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Decides whether a new client connection fits in the connection capacity, and reports refusals without
/// flooding the log.
final class SessionAdmission: Sendable {
    private let capacityBox = NIOLockedValueBox(Int.max)
    private let warning = ThrottledWarning(message: "connection capacity reached, refusing connections")

    func setCapacity(_ capacity: Int) {
        self.capacityBox.withLockedValue { $0 = capacity }
    }

    var capacity: Int {
        self.capacityBox.withLockedValue { $0 }
    }

    /// Whether one more connection fits beside `open` ones; a refusal is counted and, now and then, logged.
    func admit(open: Int, logger: Logger) -> Bool {
        let capacity = self.capacity
        guard open >= capacity else { return true }
        self.warning.record(logger, metadata: ["max-connections": "\(capacity)"])
        return false
    }
}
