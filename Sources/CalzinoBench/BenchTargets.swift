import NIOCore
import NIOPosix

/// The benchmark's own loopback targets, each listening on several 127.0.0.x addresses so that
/// connections spread over more address pairs (one pair has only about 28,000 ephemeral ports).
///
/// Protocols, chosen so that no target does per-byte work:
/// - echo: sends back what it reads;
/// - sink: reads an 8-byte big-endian count N, then N bytes, then answers one byte;
/// - source: reads an 8-byte count N, then sends N bytes (slices of one shared buffer) and closes.
final class BenchTargets: Sendable {
    let echo: [SocketAddress]
    /// Echoes one exchange (`EchoThenCloseTarget.exchange` bytes), then closes.
    let echoThenClose: [SocketAddress]
    let sink: [SocketAddress]
    let source: [SocketAddress]
    private let channels: [any Channel]

    static let hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]

    private init(echo: [SocketAddress], echoThenClose: [SocketAddress], sink: [SocketAddress], source: [SocketAddress], channels: [any Channel]) {
        self.echo = echo
        self.echoThenClose = echoThenClose
        self.sink = sink
        self.source = source
        self.channels = channels
    }

    static func start(group: any EventLoopGroup) async throws -> BenchTargets {
        var channels: [any Channel] = []
        func bindAll(_ make: @escaping @Sendable () -> any ChannelHandler) async throws -> [SocketAddress] {
            var addresses: [SocketAddress] = []
            for host in Self.hosts {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 4096)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(make()) }
                    }
                    .bind(host: host, port: 0)
                    .get()
                channels.append(channel)
                if let address = channel.localAddress { addresses.append(address) }
            }
            return addresses
        }
        let echo = try await bindAll { EchoTarget() }
        let echoThenClose = try await bindAll { EchoThenCloseTarget() }
        let sink = try await bindAll { SinkTarget() }
        let source = try await bindAll { SourceTarget() }
        return BenchTargets(echo: echo, echoThenClose: echoThenClose, sink: sink, source: source, channels: channels)
    }

    func stop() async {
        for channel in self.channels {
            try? await channel.close()
        }
    }
}

final class EchoTarget: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Echoes what it reads until one exchange has passed, then closes: the target hangs up first.
final class EchoThenCloseTarget: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    /// The size of `RateWorker`'s exchange.
    static let exchange = 64
    private var echoed = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.echoed += self.unwrapInboundIn(data).readableBytes
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if self.echoed >= Self.exchange {
            // The echo is flushed to the kernel first (loopback takes 64 bytes at once), then the close.
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The 8-byte count that opens a sink or source connection, gathered across reads.
struct CountHeader {
    private var bytes = ByteBuffer()

    /// Takes header bytes from the front of `buffer`; the count once all 8 have arrived.
    mutating func read(from buffer: inout ByteBuffer) -> UInt64? {
        let take = min(8 - self.bytes.readableBytes, buffer.readableBytes)
        if var slice = buffer.readSlice(length: take) { self.bytes.writeBuffer(&slice) }
        return self.bytes.getInteger(at: self.bytes.readerIndex, as: UInt64.self)
    }
}

final class SinkTarget: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var header = CountHeader()
    private var remaining: UInt64?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if self.remaining == nil {
            guard let count = self.header.read(from: &buffer) else { return }
            self.remaining = count
        }
        guard let remaining = self.remaining else { return }
        let got = UInt64(buffer.readableBytes)
        if got >= remaining {
            self.remaining = 0
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: [1])), promise: nil)
        } else {
            self.remaining = remaining - got
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

final class SourceTarget: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var header = CountHeader()
    private var remaining: Int = -1
    private let block = BulkBlock.shared

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.remaining < 0 else { return }
        var buffer = self.unwrapInboundIn(data)
        guard let count = self.header.read(from: &buffer) else { return }
        self.remaining = Int(clamping: count)
        self.pump(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.pump(context: context)
    }

    private func pump(context: ChannelHandlerContext) {
        guard self.remaining > 0 else { return }
        while context.channel.isWritable && self.remaining > 0 {
            let n = min(self.remaining, self.block.readableBytes)
            self.remaining -= n
            context.write(self.wrapOutboundOut(self.block.getSlice(at: self.block.readerIndex, length: n) ?? self.block), promise: nil)
        }
        context.flush()
        if self.remaining == 0 {
            context.close(mode: .output, promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One megabyte written over and over: NIO writes a `ByteBuffer` without copying it, so bulk sends cost
/// no per-byte work in the load generator.
enum BulkBlock {
    static let shared: ByteBuffer = {
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
        buffer.writeRepeatingByte(0x5A, count: 1 << 20)
        return buffer
    }()
}
