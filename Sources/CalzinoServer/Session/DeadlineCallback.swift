import NIOCore

/// Something on an event loop that a deadline wakes up.
protocol DeadlineTarget: AnyObject {
    func deadlinePassed()
}

/// A scheduled callback (NIO's allocation-light timer API) that wakes a loop-bound target. The target stays
/// on its loop; only this small struct crosses the `Sendable` boundary the API asks for.
struct DeadlineCallback: NIOScheduledCallbackHandler, Sendable {
    let target: NIOLoopBound<any DeadlineTarget>

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.target.value.deadlinePassed()
    }

    /// Schedules `target` to be woken after `delay` on `eventLoop` (which must be the current loop).
    static func schedule(_ target: any DeadlineTarget, in delay: TimeAmount, on eventLoop: any EventLoop) -> NIOScheduledCallback? {
        try? eventLoop.scheduleCallback(in: delay, handler: DeadlineCallback(target: NIOLoopBound(target, eventLoop: eventLoop)))
    }
}
