import Logging
import NIOCore

/// A relayed session after its reply: the two relay handlers, the idle watch and the end of the session.
///
/// Both handlers report here when their channel goes inactive; when both have, the session writes its
/// access-log line. Everything happens on the session's one event loop.
final class RelaySession {
    private var client: RelayHandler?
    private var target: RelayHandler?
    private let clientChannel: any Channel
    private let targetChannel: any Channel
    private let record: SessionRecord
    private let settings: SessionSettings
    private var closedSides = 0
    private var idleWatch: NIOScheduledCallback?
    private var idleSampler: IdleSampler?

    init(client: RelayHandler, target: RelayHandler, clientChannel: any Channel, targetChannel: any Channel, record: SessionRecord, settings: SessionSettings) {
        self.client = client
        self.target = target
        self.clientChannel = clientChannel
        self.targetChannel = targetChannel
        self.record = record
        self.settings = settings
        self.idleSampler = settings.timeouts.idleLimit.map(IdleSampler.init(timeout:))
        client.session = self
        target.session = self
    }

    func start() {
        self.scheduleIdleCheck()
    }

    /// One side's channel has closed.
    func sideClosed() {
        self.closedSides += 1
        guard self.closedSides == 2 else { return }
        self.idleWatch?.cancel()
        self.idleWatch = nil
        self.record.bytesUp = self.client?.bytesRead ?? 0
        self.record.bytesDown = self.target?.bytesRead ?? 0
        self.client = nil
        self.target = nil
        self.record.finish(self.settings)
    }

    private func scheduleIdleCheck() {
        guard let interval = self.idleSampler?.interval else { return }
        self.idleWatch = DeadlineCallback.schedule(self, in: interval, on: self.clientChannel.eventLoop)
    }
}

extension RelaySession: DeadlineTarget {
    func deadlinePassed() {
        self.idleWatch = nil
        guard let client = self.client, let target = self.target else { return }
        if self.idleSampler?.sample(client.bytesRead &+ target.bytesRead) == true {
            self.record.recordFailure(.idleTimeout)
            self.clientChannel.close(promise: nil)
            self.targetChannel.close(promise: nil)
        } else {
            self.scheduleIdleCheck()
        }
    }
}

@available(*, unavailable)
extension RelaySession: Sendable {}
