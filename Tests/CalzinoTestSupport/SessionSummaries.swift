import CalzinoServer
import NIOConcurrencyHelpers

/// Collects a server's session summaries (`CalzinoServer(sessionEnded:)`).
package final class SessionSummaries: Sendable {
    package init() {}

    private let box = NIOLockedValueBox<[CalzinoSessionSummary]>([])
    package func add(_ summary: CalzinoSessionSummary) { self.box.withLockedValue { $0.append(summary) } }

    /// Waits (bounded) until `count` summaries have come, and returns them.
    package func wait(for count: Int) async -> [CalzinoSessionSummary] {
        for _ in 0..<500 where self.box.withLockedValue({ $0.count }) < count {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return self.box.withLockedValue { $0 }
    }
}
