import NIOCore

/// One connection-rate worker: on its event loop, loops connect, handshake, CONNECT, 64-byte echo, close,
/// until the deadline; records each cycle's duration and counts failures. With `targetCloses`, the target
/// closes after the echo and the cycle ends when the client has seen that close come through and closed.
final class RateWorker {
    private let opener: TunnelOpener
    private let targets: [SocketAddress]
    private let eventLoop: any EventLoop
    private let deadline: NIODeadline
    private let index: Int
    private let targetCloses: Bool
    private var cycle = 0
    private(set) var samples: [Int64] = []
    private(set) var failures = 0
    private let finished: EventLoopPromise<(samples: [Int64], failures: Int)>

    init(opener: TunnelOpener, targets: [SocketAddress], eventLoop: any EventLoop, deadline: NIODeadline, index: Int, targetCloses: Bool = false) {
        self.targetCloses = targetCloses
        self.opener = opener
        self.targets = targets
        self.eventLoop = eventLoop
        self.deadline = deadline
        self.index = index
        self.finished = eventLoop.makePromise()
        self.samples.reserveCapacity(1 << 16)
    }

    /// Starts the loop (call it on the worker's event loop); the future gives the cycle durations and the failure count once the deadline has
    /// passed and the last cycle ended.
    func run() -> EventLoopFuture<(samples: [Int64], failures: Int)> {
        self.eventLoop.assertInEventLoop()
        self.next()
        return self.finished.futureResult
    }

    private func next() {
        guard NIODeadline.now() < self.deadline else {
            self.finished.succeed((self.samples, self.failures))
            return
        }
        let started = NIODeadline.now()
        let slot = self.index &+ self.cycle &* 7
        self.cycle &+= 1
        let target = self.targets[slot % self.targets.count]
        let targetCloses = self.targetCloses
        self.opener.open(to: target, index: slot, on: self.eventLoop)
            .flatMap { channel -> EventLoopFuture<any Channel> in
                let done = channel.eventLoop.makePromise(of: Void.self)
                do {
                    try channel.pipeline.syncOperations.addHandler(
                        EchoExchange(size: EchoThenCloseTarget.exchange, done: done, expectsClose: targetCloses)
                    )
                } catch {
                    done.fail(error)
                }
                return done.futureResult.map { channel }
            }
            .flatMap { channel in
                // When the target closed first, the exchange has seen the end and closed already.
                targetCloses ? channel.closeFuture : channel.close()
            }
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success:
                    self.samples.append((NIODeadline.now() - started).nanoseconds)
                case .failure:
                    self.failures += 1
                }
                self.next()
            }
    }
}

@available(*, unavailable)
extension RateWorker: Sendable {}
