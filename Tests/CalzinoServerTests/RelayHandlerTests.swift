@testable import CalzinoServer
import NIOCore
import NIOEmbedded
import CalzinoTestSupport
import Testing

/// The relay's glue handlers on embedded channels: backpressure, half-close and close propagation.
@Suite struct RelayHandlerTests {
    /// Counts `read()` calls that reach the head of the pipeline, i.e. real reads from the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            self.reads += 1
            context.read()
        }
    }

    struct Pair {
        let loop = EmbeddedEventLoop()
        let client: EmbeddedChannel
        let target: EmbeddedChannel
        let clientReads = ReadCounter()
        let targetReads = ReadCounter()
        let clientRelay: RelayHandler
        let targetRelay: RelayHandler

        init() throws {
            let (clientRelay, targetRelay) = RelayHandler.matchedPair()
            self.clientRelay = clientRelay
            self.targetRelay = targetRelay
            self.client = EmbeddedChannel(loop: self.loop)
            self.target = EmbeddedChannel(loop: self.loop)
            try self.client.pipeline.syncOperations.addHandlers([self.clientReads, clientRelay])
            try self.target.pipeline.syncOperations.addHandlers([self.targetReads, targetRelay])
            try self.client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try self.target.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        }
    }

    @Test func bytesPassUntouchedAndAreCounted() throws {
        let pair = try Pair()
        try pair.client.writeInbound(ByteBuffer(bytes: [1, 2, 3]))
        try pair.target.writeInbound(ByteBuffer(bytes: [9, 8]))
        #expect(try pair.target.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [9, 8]))
        #expect(pair.clientRelay.bytesRead == 3)
        #expect(pair.targetRelay.bytesRead == 2)
    }

    @Test func anUnwritablePartnerPausesReadingUntilItDrains() throws {
        let pair = try Pair()
        let before = pair.targetReads.reads
        pair.target.read()
        #expect(pair.targetReads.reads == before + 1, "reads flow while the client is writable")

        pair.client.isWritable = false
        pair.client.pipeline.fireChannelWritabilityChanged()
        pair.target.read()
        #expect(pair.targetReads.reads == before + 1, "no read from the target while the client cannot take more")

        pair.client.isWritable = true
        pair.client.pipeline.fireChannelWritabilityChanged()
        #expect(pair.targetReads.reads == before + 2, "the held read goes out once the client drains")
    }

    @Test func eofOnOneSideShutsTheOthersWriteHalf() throws {
        let pair = try Pair()
        var outputClosed = false
        try pair.target.pipeline.syncOperations.addHandler(OutputCloseWatcher { outputClosed = true }, position: .first)
        pair.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(outputClosed, "the client's EOF became a write shutdown towards the target")
        #expect(pair.target.isActive, "the target's other direction still flows")
        try pair.target.writeInbound(ByteBuffer(bytes: [7]))
        #expect(try pair.client.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [7]))
    }

    @Test func anErrorOnOneSideClosesTheOther() throws {
        let pair = try Pair()
        pair.client.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
        pair.loop.run()
        #expect(!pair.target.isActive)
        #expect(!pair.client.isActive)
    }

    /// Sees `close(mode: .output)` travel towards the socket.
    final class OutputCloseWatcher: ChannelOutboundHandler {
        typealias OutboundIn = Any
        let onOutputClose: () -> Void
        init(_ onOutputClose: @escaping () -> Void) { self.onOutputClose = onOutputClose }
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            if mode == .output {
                self.onOutputClose()
                promise?.succeed(())
            } else {
                context.close(mode: mode, promise: promise)
            }
        }
    }
}
