import CoreMetrics
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// One half of the relay between a client and its target: bytes read on this channel are written to the
/// partner's channel untouched, flushed once per read burst, and reading stops while the partner cannot take
/// more (the glue-handler pattern of swift-nio-ssh).
///
/// Both handlers of a pair live on one event loop, so they call each other directly.
///
/// Ending a session without losing bytes:
/// - EOF here becomes a write shutdown on the partner, after the partner's pending writes;
/// - a clean close here lets the partner finish its pending writes before it closes;
/// - an error or reset here resets the partner (SO_LINGER 0, then close) once what was read before it has been
///   written: a FIN would tell the partner that the stream ended complete (an upload cut short would pass for
///   a whole one), so the abort is passed on; the bytes before it (a server's error reply sent just before its
///   reset) still go first.
final class RelayHandler {
    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    private var failed = false

    /// Bytes read on this channel (and so written to the partner). Plain integer: one event loop.
    private(set) var bytesRead: Int = 0

    /// Bytes read by the partner (the other direction), for a snapshot taken on this loop.
    var partnerBytesRead: Int { self.partner?.bytesRead ?? 0 }
    /// The server's byte counter for this direction, told once per read burst; `nil` without metrics.
    var byteCounter: (any CounterHandler)?
    /// What `byteCounter` has been told so far.
    private var bytesCounted = 0

    /// Told when this channel closes; set once the session is wired.
    var session: RelaySession?

    /// The bandwidth buckets this channel's reads draw on; `nil`: unlimited (and no cost per read).
    var throttle: RelayThrottle?
    /// A read waiting for the buckets to recover.
    private var throttleWake: Scheduled<Void>?
    /// Bytes reserved in the buckets for the read under way and not read yet.
    private var reserved = 0

    private init() {}

    /// A connected pair: the first goes on the client channel, the second on the target channel.
    static func matchedPair() -> (client: RelayHandler, target: RelayHandler) {
        let client = RelayHandler()
        let target = RelayHandler()
        client.partner = target
        target.partner = client
        return (client, target)
    }
}

extension RelayHandler {
    private func partnerWrite(_ data: NIOAny) {
        self.context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        self.context?.flush()
    }

    /// The partner read EOF: shut our write half once what it sent us is written.
    private func partnerReadEOF() {
        guard let context = self.context else { return }
        context.flush()
        if self.inputClosed {
            // Both directions are done; NIO would turn a write shutdown into a full close and drop pending
            // writes, so finish them first.
            self.closeAfterPendingWrites()
        } else {
            context.close(mode: .output, promise: nil)
        }
    }

    /// The partner's channel is gone.
    private func partnerClosed(failed: Bool) {
        if failed {
            self.resetAndClose()
        } else {
            self.closeAfterPendingWrites()
        }
    }

    private func partnerBecameWritable() {
        if self.pendingRead, let context = self.context {
            self.pendingRead = false
            // Through our own `read`, so that a rate limit still applies.
            self.read(context: context)
        }
    }

    private var isWritable: Bool {
        self.context?.channel.isWritable ?? false
    }

    /// Closes with a reset once the writes queued before it are done: with a zero linger time, the kernel sends
    /// RST. Set on the event loop, the option takes effect at once, before the close. Bytes the kernel has not
    /// sent yet are dropped with the reset (as for any abort); on loopback and on a peer that keeps reading
    /// they are long gone.
    private func resetAndClose() {
        guard let context = self.context, context.channel.isActive else { return }
        let marker = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: marker)
        marker.futureResult.assumeIsolated().whenComplete { _ in
            if let socket = context.channel as? any SocketOptionProvider {
                _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            context.close(promise: nil)
        }
    }

    /// Writes complete in order, so an empty write's promise completes after every byte queued before it.
    /// (Kept apart from `resetAndClose`: a flag captured beside the context would cost this closure, run at
    /// every session's end, an allocation: 140 per session against 139, benchmarks/allocations.sh.)
    private func closeAfterPendingWrites() {
        guard let context = self.context, context.channel.isActive else { return }
        let marker = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: marker)
        marker.futureResult.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

extension RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The partner may have asked to read before we could say we are writable.
        if context.channel.isWritable {
            self.partner?.partnerBecameWritable()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.throttleWake?.cancel()
        self.throttleWake = nil
        self.context = nil
        self.partner = nil
        self.session = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = self.unwrapInboundIn(data).readableBytes
        self.bytesRead &+= count
        if self.throttle != nil {
            self.reserved -= count
        }
        self.partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let throttle = self.throttle {
            throttle.settle(self.reserved)
            self.reserved = 0
        }
        if let counter = self.byteCounter, self.bytesRead > self.bytesCounted {
            counter.increment(by: Int64(self.bytesRead - self.bytesCounted))
            self.bytesCounted = self.bytesRead
        }
        self.partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.partnerClosed(failed: self.failed)
        self.session?.sideClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            self.inputClosed = true
            self.partner?.partnerReadEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failed = true
        self.partner?.partnerClosed(failed: true)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        guard let partner = self.partner, partner.isWritable else {
            self.pendingRead = true
            return
        }
        if let throttle = self.throttle {
            // One reservation per read: a read already reserved (and perhaps waiting) is not reserved again.
            guard self.throttleWake == nil, self.reserved == 0 else { return }
            // Every reader of a bucket reserves the same amount, so turns taken in order are fair shares.
            let size = throttle.maximumRead
            self.reserved = size
            if let wait = throttle.reserve(size) {
                // Over the rate: leave the bytes in the kernel (the sender slows down) until it is covered.
                self.throttleWake = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
                    self.throttleWake = nil
                    self.context?.read()
                }
                return
            }
        }
        context.read()
    }
}

@available(*, unavailable)
extension RelayHandler: Sendable {}
