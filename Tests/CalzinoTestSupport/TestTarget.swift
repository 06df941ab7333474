import NIOCore
import NIOPosix

/// A loopback server for the proxy to connect to: the far end of every integration test.
package final class TestTarget: Sendable {
    package enum Kind: Sendable {
        /// Sends back what it reads; on EOF, finishes sending and shuts its own write half.
        case echo
        /// Answers any request with a 200 and `body`, then closes.
        case http(body: [UInt8])
        /// Sends `count` bytes of ``TestPattern`` as fast as the peer takes them, then closes.
        case source(count: Int)
        /// Sends `greeting` and then echoes, so a test sees the target speak first.
        case greeter(greeting: [UInt8])
    }

    package let channel: any Channel
    package var port: Int { self.channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    package static func start(_ kind: Kind, host: String = "127.0.0.1") async throws -> TestTarget {
        try await Self.start(host: host) {
            switch kind {
            case .echo: return EchoHandler(greeting: nil)
            case .greeter(let greeting): return EchoHandler(greeting: greeting)
            case .http(let body): return HTTPHandler(body: body)
            case .source(let count): return SourceHandler(count: count)
            }
        }
    }

    /// A target whose connections each get the handler `makeHandler` makes.
    package static func start(host: String = "127.0.0.1", custom makeHandler: @escaping @Sendable () -> any ChannelHandler) async throws -> TestTarget {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
            .bind(host: host, port: 0)
            .get()
        return TestTarget(channel: channel)
    }

    package func stop() async {
        try? await self.channel.close()
    }
}

/// A deterministic byte stream: byte i is a function of i, so a reader checks any offset alone. It repeats
/// with a prime period, taken from a table made once, so that a debug build can produce it quickly.
package enum TestPattern {
    package static let period = 1_000_003
    private static let table: [UInt8] = (0..<(period + (1 << 16))).map { i in
        UInt8(truncatingIfNeeded: ((i % period) &* 2_654_435_761) >> 13)
    }

    package static func byte(at offset: Int) -> UInt8 {
        Self.table[offset % Self.period]
    }

    package static func bytes(from offset: Int, count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var position = offset
        while result.count < count {
            let start = position % Self.period
            let n = min(count - result.count, 1 << 16)
            result += Self.table[start..<(start + n)]
            position += n
        }
        return result
    }
}

private final class EchoHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer
    package let greeting: [UInt8]?
    package init(greeting: [UInt8]?) { self.greeting = greeting }

    package func channelActive(context: ChannelHandlerContext) {
        if let greeting {
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: greeting)), promise: nil)
        }
        context.fireChannelActive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.flush()
            context.close(mode: .output, promise: nil)
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

private final class HTTPHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer
    package let body: [UInt8]
    package var head = ByteBuffer()
    package var answered = false
    package init(body: [UInt8]) { self.body = body }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.head.writeBuffer(&incoming)
        guard !self.answered, self.head.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) != nil else { return }
        self.answered = true
        var response = context.channel.allocator.buffer(capacity: self.body.count + 128)
        response.writeString("HTTP/1.1 200 OK\r\nContent-Length: \(self.body.count)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
        response.writeBytes(self.body)
        context.writeAndFlush(self.wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {}

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Writes only while the channel is writable, so its own memory stays small however slow the reader.
private final class SourceHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer
    package let count: Int
    package var sent = 0
    package var closing = false
    package init(count: Int) { self.count = count }

    package func channelActive(context: ChannelHandlerContext) {
        self.pump(context: context)
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.pump(context: context)
    }

    package func pump(context: ChannelHandlerContext) {
        while context.channel.isWritable && self.sent < self.count {
            let n = min(1 << 16, self.count - self.sent)
            var chunk = context.channel.allocator.buffer(capacity: n)
            chunk.writeBytes(TestPattern.bytes(from: self.sent, count: n))
            self.sent += n
            context.write(self.wrapOutboundOut(chunk), promise: nil)
        }
        context.flush()
        if self.sent >= self.count && !self.closing {
            self.closing = true
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {}

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
