import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A warning about refusals that must not flood the log: logged at most every five seconds, with the
/// number of refusals since the last one.
final class ThrottledWarning: Sendable {
    let interval: TimeAmount
    private let message: Logger.Message
    private let state = NIOLockedValueBox((count: 0, last: NIODeadline?.none))

    /// `interval`: five seconds in the server; tests shorten it.
    init(message: Logger.Message, interval: TimeAmount = .seconds(5)) {
        self.message = message
        self.interval = interval
    }

    /// Counts one refusal, and logs if the last warning is old enough.
    func record(_ logger: Logger, metadata: Logger.Metadata = [:]) {
        let report: Int? = self.state.withLockedValue { state in
            state.count += 1
            let now = NIODeadline.now()
            if let last = state.last, now - last < self.interval {
                return nil
            }
            state.last = now
            defer { state.count = 0 }
            return state.count
        }
        if let refused = report {
            logger.warning(self.message, metadata: metadata.merging(["refused": "\(refused)"]) { $1 })
        }
    }
}
