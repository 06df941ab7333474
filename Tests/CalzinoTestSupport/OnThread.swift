import Foundation

/// Runs blocking socket work on a thread of its own, so that it never holds one of the few threads that
/// run Swift concurrency tasks (this machine has two cores).
package func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
