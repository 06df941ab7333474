import CalzinoPolicy
@testable import CalzinoServer
import Logging
import NIOCore
import NIOEmbedded
import SOCKSCore
import CalzinoTestSupport
import Testing

/// The handshake handler on an embedded channel: replies, holds reads while a request runs, deadlines.
@Suite struct HandshakeHandlerTests {
    /// A dialer whose connect completes only when the test says so.
    final class ManualDialer: SOCKSDialer, @unchecked Sendable {
        var promise: EventLoopPromise<any Channel>?
        func dial(_ destination: SOCKSEndpoint, on eventLoop: any EventLoop, timeout: TimeAmount, policy: DestinationPolicy) -> EventLoopFuture<any Channel> {
            let promise = eventLoop.makePromise(of: (any Channel).self)
            self.promise = promise
            return promise.futureResult
        }
    }

    /// Records each close the handler asks for and keeps the channel open on an output shutdown, which
    /// `EmbeddedChannel` would otherwise turn into a full close.
    final class CloseRecorder: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var modes: [CloseMode] = []
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            self.modes.append(mode)
            if mode == .output {
                promise?.succeed(())
            } else {
                context.close(mode: mode, promise: promise)
            }
        }
    }

    /// Closes the channel when the success reply is written, as NIO does when a reset arrives while it
    /// flushes: the client has gone before the relay could start.
    final class ResetOnSuccessReply: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let bytes = self.unwrapOutboundIn(data)
            if bytes.readableBytes == 10, bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self) == 0 {
                promise?.fail(ChannelError.ioOnClosedChannel)
                context.close(promise: nil)
                return
            }
            context.write(data, promise: promise)
        }
    }

    static func makeChannel(
        dialer: any SOCKSDialer,
        handshakeTimeout: TimeAmount = .seconds(10),
        closes: CloseRecorder? = nil,
        outbound: (any ChannelOutboundHandler & Sendable)? = nil,
        accessLogger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> (EmbeddedChannel, RelayHandlerTests.ReadCounter) {
        let settings = SessionSettings(
            timeouts: Timeouts(handshake: handshakeTimeout, connect: .seconds(10), bind: .seconds(10), idle: .zero, udpIdle: .zero),
            udpAdvertise: nil,
            acceptedMethods: [.noAuthenticationRequired],
            dialer: dialer,
            listenerName: "test",
            rules: AccessRules(),
            protectedClasses: [],
            limits: Limits(),
            shared: SharedLimiters(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            accessLogger: accessLogger
        )
        let channel = EmbeddedChannel()
        let reads = RelayHandlerTests.ReadCounter()
        try channel.pipeline.syncOperations.addHandler(reads)
        if let closes {
            try channel.pipeline.syncOperations.addHandler(closes)
        }
        if let outbound {
            try channel.pipeline.syncOperations.addHandler(outbound)
        }
        try channel.pipeline.syncOperations.addHandler(SessionHandler(settings: settings, record: SessionRecord(clientAddress: nil)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, reads)
    }

    @Test func greetingIsAnsweredAndReadsHeldWhileTheRequestRuns() throws {
        let dialer = ManualDialer()
        let (channel, reads) = try Self.makeChannel(dialer: dialer)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [5, 0]))

        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 1, 127, 0, 0, 1, 0, 80, 0xAB]))
        #expect(dialer.promise != nil, "the connect started")
        var before = reads.reads
        channel.read()
        #expect(reads.reads == before + 1, "a few pipelined bytes do not stop reading")

        try channel.writeInbound(ByteBuffer(repeating: 0x42, count: SessionStateMachine.pipelinedBytesBeforeHoldingReads))
        before = reads.reads
        channel.read()
        #expect(reads.reads == before, "past the bound, no socket read while the request runs")

        dialer.promise?.fail(ChannelError.connectTimeout(.seconds(10)))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(reads.reads > before, "after a failure reply, reads drain the client until it closes")
    }

    @Test func handshakeDeadlineClosesTheChannel() throws {
        let (channel, _) = try Self.makeChannel(dialer: ManualDialer(), handshakeTimeout: .seconds(3))
        try channel.writeInbound(ByteBuffer(bytes: [5, 1]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func unknownVersionClosesWithoutReply() throws {
        let (channel, _) = try Self.makeChannel(dialer: ManualDialer())
        try channel.writeInbound(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n".utf8)))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
    }

    /// A dial that fails after the handshake deadline has answered 0x04 must not close the connection at
    /// once: the failure reply is followed by a FIN and a drain of up to 2 s (the linger), whatever
    /// completes late.
    @Test func aDialFailingAfterTheDeadlineKeepsTheLinger() throws {
        let dialer = ManualDialer()
        let closes = CloseRecorder()
        let (channel, _) = try Self.makeChannel(dialer: dialer, handshakeTimeout: .seconds(3), closes: closes)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [5, 0]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(closes.modes == [.output], "after the reply, a FIN; the server drains the client for up to 2 s")

        dialer.promise?.fail(ChannelError.connectTimeout(.seconds(10)))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "no second reply")
        #expect(closes.modes == [.output] && channel.isActive, "the late dial failure does not cut the linger short")
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(closes.modes == [.output, .all] && !channel.isActive, "the linger ends on its own deadline")
    }

    /// A client that resets while the success reply is written never gets a relay, but its session still
    /// gets its access line, and the dialed target is closed.
    @Test func aClientGoneDuringTheReplyIsLoggedAndItsTargetClosed() throws {
        let dialer = ManualDialer()
        let (accessLogger, lines) = CapturingLogHandler.logger(label: "access")
        let (channel, _) = try Self.makeChannel(dialer: dialer, outbound: ResetOnSuccessReply(), accessLogger: accessLogger)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80]))
        let target = EmbeddedChannel(loop: channel.embeddedEventLoop)
        try target.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        dialer.promise?.succeed(target)
        #expect(!channel.isActive)
        #expect(!target.isActive, "the target does not outlive the client")
        #expect(lines.lines.count == 1 && lines.lines.first?.contains("reply=0x00") == true, "\(lines.lines)")
    }
}
