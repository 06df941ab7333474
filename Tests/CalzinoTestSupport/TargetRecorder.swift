import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A target that sends a greeting, shuts its write half at once, and records everything it reads until EOF.
package final class TargetRecorder: Sendable {
    package init() {}

    private let state = NIOLockedValueBox<(bytes: [UInt8], eof: Bool)>(([], false))

    package func start(greeting: [UInt8]) async throws -> TestTarget {
        try await TestTarget.start(custom: { RecordingHandler(greeting: greeting, recorder: self) })
    }

    package func append(_ bytes: ByteBuffer) {
        self.state.withLockedValue { $0.bytes += bytes.readableBytesView }
    }

    package func markEOF() {
        self.state.withLockedValue { $0.eof = true }
    }

    /// The bytes read, once EOF came (or after 10 s).
    package func waitForEOF() async -> [UInt8] {
        for _ in 0..<1000 {
            let (bytes, eof) = self.state.withLockedValue { ($0.bytes, $0.eof) }
            if eof { return bytes }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return self.state.withLockedValue { $0.bytes }
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer
    package let greeting: [UInt8]
    package let recorder: TargetRecorder

    package init(greeting: [UInt8], recorder: TargetRecorder) {
        self.greeting = greeting
        self.recorder = recorder
    }

    package func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: self.greeting)), promise: nil)
        context.close(mode: .output, promise: nil)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.recorder.append(self.unwrapInboundIn(data))
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.recorder.markEOF()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            self.recorder.markEOF()
        }
    }
}
