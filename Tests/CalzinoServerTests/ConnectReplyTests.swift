@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// The SOCKS5 success reply names the outbound socket's real local address and port: the address and port the
/// target sees the connection come from (README, "CONNECT").
@Suite(.timeLimit(.minutes(1)))
struct ConnectReplyTests {
    @Test(arguments: [false, true])
    func theReplyNamesThePortTheTargetSeesUs(ipv6: Bool) async throws {
        let target = try await TestTarget.start(host: ipv6 ? "::1" : "127.0.0.1") { AnnouncePeerPort() }
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let (reply, announced) = try await onThread {
            let socket = try RawSocket(port: port)
            let address: [UInt8] = ipv6 ? [4] + [UInt8](repeating: 0, count: 15) + [1] : [1, 127, 0, 0, 1]
            try socket.send([5, 1, 0, 5, 1, 0] + address + [UInt8(targetPort >> 8), UInt8(targetPort & 0xFF)])
            _ = try socket.receive(exactly: 2)
            let reply = try socket.receive(exactly: ipv6 ? 22 : 10)
            return (reply, try socket.receive(exactly: 2))
        }
        let addressLength = ipv6 ? 16 : 4
        #expect(reply[0...3] == [5, 0, 0, ipv6 ? 4 : 1])
        #expect(Array(reply[4..<(4 + addressLength)]) == (ipv6 ? [UInt8](repeating: 0, count: 15) + [1] : [127, 0, 0, 1]))
        #expect(Array(reply[(4 + addressLength)...]) == announced, "BND.PORT is the port the target saw the connection come from")
        await proxy.stop()
        await target.stop()
    }
}

/// Writes the port its peer connects from, as two bytes in network order.
private final class AnnouncePeerPort: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let port = context.remoteAddress?.port ?? 0
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: [UInt8(port >> 8), UInt8(port & 0xFF)])), promise: nil)
    }
}
