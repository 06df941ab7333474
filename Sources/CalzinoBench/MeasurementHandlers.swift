import NIOCore

/// Sends an 8-byte count and then that many bytes to a sink, as fast as the channel takes them, and
/// completes when the sink acknowledges the last byte.
final class BulkUpload: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var remaining: Int
    private let done: OneShot<Void>

    init(count: Int, done: EventLoopPromise<Void>) {
        self.done = OneShot(done)
        self.remaining = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var header = context.channel.allocator.buffer(capacity: 8)
        header.writeInteger(UInt64(self.remaining))
        context.write(self.wrapOutboundOut(header), promise: nil)
        self.pump(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.pump(context: context)
    }

    private func pump(context: ChannelHandlerContext) {
        let block = BulkBlock.shared
        while context.channel.isWritable && self.remaining > 0 {
            let n = min(self.remaining, block.readableBytes)
            self.remaining -= n
            context.write(self.wrapOutboundOut(block.getSlice(at: block.readerIndex, length: n) ?? block), promise: nil)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.done.succeed(())
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.fail(BenchError("upload tunnel closed early"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }
}

/// Asks a source for `count` bytes and completes when they have all arrived.
final class BulkDownload: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let count: Int
    private var received = 0
    private let done: OneShot<Void>

    init(count: Int, done: EventLoopPromise<Void>) {
        self.done = OneShot(done)
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var header = context.channel.allocator.buffer(capacity: 8)
        header.writeInteger(UInt64(self.count))
        context.writeAndFlush(self.wrapOutboundOut(header), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        if self.received >= self.count {
            self.done.succeed(())
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.fail(BenchError("download tunnel closed after \(self.received) of \(self.count) bytes"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }
}

/// Sends one byte, waits for it to come back, `rounds` times; reports each round trip in nanoseconds.
final class PingPong: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let rounds: Int
    private var samples: [Int64] = []
    private var sentAt = NIODeadline.now()
    private let done: OneShot<[Int64]>

    init(rounds: Int, done: EventLoopPromise<[Int64]>) {
        self.done = OneShot(done)
        self.rounds = rounds
        self.samples.reserveCapacity(rounds)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.ping(context: context)
    }

    private func ping(context: ChannelHandlerContext) {
        self.sentAt = .now()
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(integer: UInt8(0x50))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.samples.append((NIODeadline.now() - self.sentAt).nanoseconds)
        if self.samples.count >= self.rounds {
            self.done.succeed(self.samples)
        } else {
            self.ping(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.fail(BenchError("ping-pong tunnel closed after \(self.samples.count) rounds"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }
}

/// Sends `size` bytes to an echo target and completes when they are back.
final class EchoExchange: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let size: Int
    private var received = 0
    private let done: OneShot<Void>
    /// The target closes after the echo: succeed once the echo is in and the end has come through.
    private let expectsClose: Bool

    init(size: Int, done: EventLoopPromise<Void>, expectsClose: Bool = false) {
        self.done = OneShot(done)
        self.size = size
        self.expectsClose = expectsClose
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let block = BulkBlock.shared
        context.writeAndFlush(self.wrapOutboundOut(block.getSlice(at: block.readerIndex, length: self.size) ?? block), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        if self.received >= self.size, !self.expectsClose {
            self.done.succeed(())
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The target's close, passed on by the proxy as a FIN: close our side too.
        if self.expectsClose, event is ChannelEvent {
            self.finishAfterClose(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.expectsClose {
            self.finishAfterClose(context: context)
        } else {
            self.done.fail(BenchError("echo tunnel closed early"))
        }
    }

    private func finishAfterClose(context: ChannelHandlerContext) {
        if self.received >= self.size {
            self.done.succeed(())
        } else {
            self.done.fail(BenchError("echo tunnel closed before the echo"))
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }
}

/// A promise completed at most once: a handler may see success and then the channel closing.
final class OneShot<Value: Sendable> {
    private var promise: EventLoopPromise<Value>?

    init(_ promise: EventLoopPromise<Value>) {
        self.promise = promise
    }

    func succeed(_ value: Value) {
        self.promise?.succeed(value)
        self.promise = nil
    }

    func fail(_ error: any Error) {
        self.promise?.fail(error)
        self.promise = nil
    }
}
