import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A target that sends a greeting, shuts its write half at once (unless told to keep it open), and records
/// everything it reads and how its input ended: an orderly EOF (FIN) or a reset.
package final class TargetRecorder: Sendable {
    package enum Ending: Equatable, Sendable {
        case eof
        case reset
        case failed(String)
    }

    package init() {}

    private let state = NIOLockedValueBox<(bytes: [UInt8], ending: Ending?)>(([], nil))

    package func start(greeting: [UInt8], shutOutput: Bool = true) async throws -> TestTarget {
        try await TestTarget.start(custom: { RecordingHandler(greeting: greeting, shutOutput: shutOutput, recorder: self) })
    }

    package func append(_ bytes: ByteBuffer) {
        self.state.withLockedValue { $0.bytes += bytes.readableBytesView }
    }

    /// The first ending is the one that counts: a reset is followed by the channel's close.
    package func markEnded(_ ending: Ending) {
        self.state.withLockedValue { state in
            if state.ending == nil { state.ending = ending }
        }
    }

    /// The bytes read and how the input ended; `ending` is nil when it had not ended within `seconds`.
    package func waitForEnd(within seconds: Int = 10) async -> (bytes: [UInt8], ending: Ending?) {
        for _ in 0..<(seconds * 100) {
            let (bytes, ending) = self.state.withLockedValue { ($0.bytes, $0.ending) }
            if let ending { return (bytes, ending) }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return self.state.withLockedValue { ($0.bytes, $0.ending) }
    }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let greeting: [UInt8]
    let shutOutput: Bool
    let recorder: TargetRecorder

    init(greeting: [UInt8], shutOutput: Bool, recorder: TargetRecorder) {
        self.greeting = greeting
        self.shutOutput = shutOutput
        self.recorder = recorder
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: self.greeting)), promise: nil)
        if self.shutOutput {
            context.close(mode: .output, promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.recorder.append(self.unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNRESET {
            self.recorder.markEnded(.reset)
        } else {
            self.recorder.markEnded(.failed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // With our output already shut, NIO folds an EOF into the close without an `inputClosed` event; a
        // reset comes as `errorCaught` first, and this handler never closes on its own before either.
        self.recorder.markEnded(.eof)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            self.recorder.markEnded(.eof)
            // The server sees our close only once we close: an echo-less recorder has nothing more to say.
            if self.shutOutput { context.close(promise: nil) }
        }
    }
}
