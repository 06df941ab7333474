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
        let refusing = try ClosedPort()
        let closedPort = refusing.port
        let port = proxy.port
        let (reply, ending, drained, drainSeconds) = try await onThread {
            let socket = try RawSocket(port: port, timeoutSeconds: 5)
            try socket.send(Wire.socks5Connect(port: closedPort))
            _ = try socket.receive(exactly: 2)
            let reply = try socket.receive(exactly: 10)
            let ending = socket.waitForEnd()
            // Keep sending after the FIN: while the server drains (reads and drops), sends go on; once it has
            // closed, the kernel answers with a reset and a later send fails. 8 MiB in the first second is more
            // than the socket buffers hold (3.9 MB went through a server that stopped reading): only a server
            // that reads lets that much through.
            let start = Date()
            var drained = 0
            var inFirstSecond = 0
            let chunk = [UInt8](repeating: 1, count: 64 << 10)
            // At full speed only until 8 MiB have gone (loopback would otherwise load a core for 2 s beside the
            // other suites), then a chunk every 50 ms until the close.
            while Date().timeIntervalSince(start) < 6, (try? socket.send(chunk)) != nil {
                drained += chunk.count
                if Date().timeIntervalSince(start) < 1 { inFirstSecond = drained }
                if drained >= 8 << 20 { Thread.sleep(forTimeInterval: 0.05) }
            }
            return (reply, ending, inFirstSecond, Date().timeIntervalSince(start))
        }
        #expect(reply[1] == 0x05)
        #expect(ending == .fin, "the reply is followed by a FIN, not \(ending)")
        #expect(drained >= 8 << 20, "the server read what came after its reply: \(drained) bytes in the first second")
        #expect(drainSeconds > 1.5 && drainSeconds < 5, "the server closed \(drainSeconds) s after its FIN (the drain lasts 2 s)")
        withExtendedLifetime(refusing) {}
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
