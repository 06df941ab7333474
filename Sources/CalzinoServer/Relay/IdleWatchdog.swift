import NIOCore

/// Closes a relayed session in which no byte moved, either way, for the idle timeout.
///
/// Instead of stamping the time on every read, it samples the relay's byte counters four times per
/// timeout: a session closes between 1 and 1.25 idle timeouts after its last byte.
final class IdleWatchdog {
    private static let checksPerTimeout = 4

    private let client: RelayHandler
    private let target: RelayHandler
    private let interval: TimeAmount
    private var lastTotal = -1
    private var quietChecks = 0
    private var task: Scheduled<Void>?

    init(client: RelayHandler, target: RelayHandler, timeout: TimeAmount) {
        self.client = client
        self.target = target
        self.interval = .nanoseconds(max(timeout.nanoseconds / Int64(Self.checksPerTimeout), 1_000_000))
    }

    /// Starts watching; `onIdle` runs on the loop when the session is found idle.
    func start(on eventLoop: any EventLoop, onIdle: @escaping () -> Void) {
        self.schedule(on: eventLoop, onIdle: onIdle)
    }

    func cancel() {
        self.task?.cancel()
        self.task = nil
    }

    private func schedule(on eventLoop: any EventLoop, onIdle: @escaping () -> Void) {
        self.task = eventLoop.assumeIsolated().scheduleTask(in: self.interval) {
            let total = self.client.bytesRead &+ self.target.bytesRead
            if total == self.lastTotal {
                self.quietChecks += 1
            } else {
                self.lastTotal = total
                self.quietChecks = 0
            }
            if self.quietChecks >= Self.checksPerTimeout {
                self.task = nil
                onIdle()
            } else {
                self.schedule(on: eventLoop, onIdle: onIdle)
            }
        }
    }
}

@available(*, unavailable)
extension IdleWatchdog: Sendable {}
