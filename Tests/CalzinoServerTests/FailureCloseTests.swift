@testable import CalzinoServer
import Foundation
import Glibc
import NIOCore
import CalzinoTestSupport
import Testing

/// How a failed request ends, seen from real sockets: the reply, then a FIN, then a drain of whatever the client
/// still sends for up to 2 s, then the close; and a TCP connect that never completes answered at the connect
/// deadline.
@Suite(.timeLimit(.minutes(1)))
struct FailureCloseTests {
    /// The order the README promises after a failure reply: FIN first (the client reads the reply and an orderly
    /// end, never a reset that could destroy the reply), then bytes it sends are read and dropped for 2 s,
    /// then the socket closes.
    @Test func aFailureReplyIsFollowedByAFINThenATwoSecondDrain() async throws {
        let proxy = try await TestServer.start()
        let closedPort = try await FailureIntegrationTests.closedPort()
        let port = proxy.port
        let (reply, ending, drained, drainSeconds) = try await onThread {
            let socket = try RawSocket(port: port, timeoutSeconds: 5)
            try socket.send(Wire.socks5Connect(port: closedPort))
            _ = try socket.receive(exactly: 2)
            let reply = try socket.receive(exactly: 10)
            let ending = socket.waitForEnd()
            // Keep sending after the FIN: while the server drains, each send succeeds; once it has closed, the
            // kernel answers with a reset and a later send fails.
            let start = Date()
            var drained = 0
            while Date().timeIntervalSince(start) < 6, (try? socket.send(Array(repeating: 1, count: 512))) != nil {
                drained += 512
                Thread.sleep(forTimeInterval: 0.05)
            }
            return (reply, ending, drained, Date().timeIntervalSince(start))
        }
        #expect(reply[1] == 0x05)
        #expect(ending == .fin, "the reply is followed by a FIN, not \(ending)")
        #expect(drained > 0, "bytes sent after the reply were read, not answered with a reset")
        #expect(drainSeconds > 1.5 && drainSeconds < 5, "the server closed \(drainSeconds) s after its FIN (the drain lasts 2 s)")
        await proxy.stop()
    }

    /// A destination that never answers the SYN: a listener whose backlog is full. The connect deadline (not
    /// the handshake's, set far away) answers 0x04, and the access log names the cause.
    @Test func aTCPConnectThatNeverCompletesIs04AtTheConnectDeadline() async throws {
        let blackhole = try BlackholeListener()
        defer { blackhole.close() }
        let proxy = try await TestServer.start {
            $0.timeouts.connect = .milliseconds(500)
            $0.timeouts.handshake = .seconds(30)
        }
        let port = proxy.port, blackholePort = blackhole.port
        let start = Date()
        let (reply, ending) = try await onThread {
            let socket = try RawSocket(port: port, timeoutSeconds: 10)
            try socket.send(Wire.socks5Connect(port: blackholePort))
            _ = try socket.receive(exactly: 2)
            return (try socket.receive(exactly: 10), socket.waitForEnd())
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply[1] == 0x04)
        #expect(ending == .fin)
        // The reply comes at the connect deadline; the FIN follows at once (nothing was sent to drain).
        #expect(elapsed > 0.45 && elapsed < 4, "answered after \(elapsed) s")
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("error=\"Connect timeout (500 ms)\"") == true, "\(lines)")
        await proxy.stop()
    }
}

/// A loopback listener that accepts nothing, with its one-slot backlog taken: further SYNs are dropped, so a
/// connect to it neither succeeds nor fails until its own timeout.
final class BlackholeListener: @unchecked Sendable {
    let port: Int
    private let listener: CInt
    private let filler: RawSocket

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 0) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw RawSocket.Failure(description: "blackhole listener: errno \(errno)") }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        // listen(0) leaves room for one connection that is never accepted; it takes the room.
        self.filler = try RawSocket(port: self.port)
    }

    func close() {
        self.filler.close()
        Glibc.close(self.listener)
    }
}
