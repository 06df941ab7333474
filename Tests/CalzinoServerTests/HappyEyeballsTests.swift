@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// A name with addresses of both families: the connect races them (happy eyeballs, RFC 8305), so an IPv6
/// address that never answers does not hold up the IPv4 one until the connect deadline.
@Suite(.timeLimit(.minutes(1)))
struct HappyEyeballsTests {
    @Test func aSilentIPv6AddressDoesNotHoldUpTheIPv4One() async throws {
        let target = try await TestTarget.start(.echo)
        // The same port on ::1, where SYNs go unanswered.
        let blackhole = try BlackholeListener(ipv6: true, port: target.port)
        defer { blackhole.close() }
        let both = [try SocketAddress(ipAddress: "::1", port: 0), try SocketAddress(ipAddress: "127.0.0.1", port: 0)]
        let proxy = try await TestServer.start {
            $0.timeouts.connect = .seconds(10)
            $0.dialer = DirectDialer(resolver: { StaticResolver(eventLoop: $0, table: ["dual.test": both]) })
        }
        let port = proxy.port, targetPort = target.port
        let start = Date()
        let (reply, echo) = try await onThread {
            let socket = try RawSocket(port: port, timeoutSeconds: 15)
            try socket.send([5, 1, 0] + Array(Wire.socks5ConnectName("dual.test", port: targetPort).dropFirst(3)) + [3])
            let (_, reply) = try Wire.readSOCKS5Reply(socket)
            return (reply, try socket.receive(exactly: 1))
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply[1] == 0x00 && echo == [3])
        // NIO tries the next address 250 ms after the first; the bound leaves room for a loaded machine.
        #expect(elapsed < 4, "the IPv4 address was tried while the IPv6 one hung (connect deadline 10 s): \(elapsed) s")
        // The client's socket closed when the thread's work ended: the session is logged.
        let line = await proxy.accessLines(atLeast: 1).first ?? ""
        #expect(line.contains("connected=127.0.0.1:\(targetPort)"), "\(line)")
        await proxy.stop()
        await target.stop()
    }
}
