@testable import CalzinoServer
import Foundation
import Glibc
import NIOCore
import NIOPosix
import CalzinoTestSupport
import Testing

/// A reset on one side of a relayed session is passed on as a reset to the other (a FIN would tell it that a
/// stream cut short had ended complete), after the bytes read before it.
@Suite(.timeLimit(.minutes(1)))
struct RelayResetTests {
    /// A client that resets its connection: the target is reset too (a FIN would tell it the stream ended
    /// complete), and the session ends and is logged.
    @Test func clientResetResetsTheTarget() async throws {
        let recorder = TargetRecorder()
        let target = try await recorder.start(greeting: Array("hi".utf8), shutOutput: false)
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let socket = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            _ = try socket.receive(exactly: 2)
            try socket.send(Array(repeating: 7, count: 1000))
            return socket
        }
        // Every byte reached the target before the reset, so nothing unread could turn a close into a reset.
        for _ in 0..<500 where await recorder.waitForEnd(within: 0).bytes.count < 1000 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        socket.reset()
        let (recorded, ending) = await recorder.waitForEnd()
        #expect(recorded.count == 1000)
        #expect(ending == .reset, "the target saw \(String(describing: ending))")
        let lines = await proxy.accessLines(atLeast: 1, within: 10)
        #expect(lines.count == 1, "the session ended and was logged")
        // The registry hears of the close through the channel's close future, just after the handlers.
        for _ in 0..<250 where proxy.server.openSessions > 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(proxy.server.openSessions == 0)
        await proxy.stop()
        await target.stop()
    }

    /// A target that answers with a few bytes and resets right behind them (a server refusing an upload with
    /// an error reply, its kernel resetting for the unread rest): the client gets the answer, then the reset.
    @Test func bytesBeforeAResetArriveBeforeIt() async throws {
        let count = 2000
        let target = try await TestTarget.start(custom: { SendThenReset(count: count) })
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let (received, ending) = try await onThread { () -> (Int, RawSocket.Ending) in
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            try socket.send([1])
            var received = 0
            while true {
                let (bytes, ending) = socket.receive(upTo: 1 << 16)
                received += bytes.count
                if let ending { return (received, ending) }
            }
        }
        #expect(received == count, "every byte the target sent before its reset")
        #expect(ending == .reset)
        await proxy.stop()
        await target.stop()
    }

    /// A target that resets: the client is reset too.
    @Test func targetResetResetsTheClient() async throws {
        let target = try await TestTarget.start(custom: { SendThenReset(count: 0) })
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let ending = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            try socket.send([1])
            return socket.waitForEnd()
        }
        #expect(ending == .reset, "the client saw \(ending)")
        await proxy.stop()
        await target.stop()
    }
}

/// A target that answers the first byte it reads with `count` bytes (perhaps none) and resets the connection
/// right behind them. (Answering at accept would race the server's own connect: a reset before the relay is set up is a
/// failed connect, 0x01.)
private final class SendThenReset: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let count: Int

    init(count: Int) {
        self.count = count
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = ByteBuffer(bytes: TestPattern.bytes(from: 0, count: self.count))
        context.writeAndFlush(self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            if let socket = context.channel as? any SocketOptionProvider {
                _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            context.close(promise: nil)
        }
    }
}
