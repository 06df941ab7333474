@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// The BIND claims of the README: exactly one connection is accepted, a different peer gets SOCKS4's 0x5B,
/// SOCKS5 answers 0x04 when nobody comes within the bind timeout, and BIND works over IPv6.
@Suite(.timeLimit(.minutes(1)))
struct BindPeerTests {
    @Test func theListenerTakesExactlyOneConnection() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let (second, listenPort, echoed) = try await onThread { () -> ([UInt8], Int, [UInt8]) in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 0])
            _ = try client.receive(exactly: 2)
            let listenPort = BindIntegrationTests.port(try client.receive(exactly: 10)[8...])
            let peer = try RawSocket(port: listenPort)
            let second = try client.receive(exactly: 10)
            try peer.send([7])
            return (second, listenPort, try client.receive(exactly: 1))
        }
        #expect(second[1] == 0x00)
        #expect(echoed == [7], "the first peer relays")
        // The listener closes once the peer is in: a second connection is refused.
        var refused = false
        for _ in 0..<100 where !refused {
            refused = (try? RawSocket(port: listenPort, timeoutSeconds: 1)) == nil
            if !refused { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(refused, "a second connection to the BIND port is refused")
        await proxy.stop()
    }

    /// SOCKS4 BIND names the peer it expects (DSTIP 127.0.0.2); a connection from 127.0.0.3 gets 0x5B.
    @Test func aSOCKS4BindRefusesADifferentPeerWith5B() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let (first, second, ending) = try await onThread { () -> ([UInt8], [UInt8], RawSocket.Ending) in
            let client = try RawSocket(port: port)
            try client.send([4, 2, 0, 0, 127, 0, 0, 2, 0])
            let first = try client.receive(exactly: 8)
            let stranger = try RawSocket(port: BindIntegrationTests.port(first[2...]), localHost: "127.0.0.3")
            defer { stranger.close() }
            return (first, try client.receive(exactly: 8), client.waitForEnd())
        }
        #expect(first[1] == 0x5A)
        #expect(second[1] == 0x5B, "a peer other than the one named")
        #expect(ending == .fin)
        await proxy.stop()
    }

    @Test func aSOCKS5BindAnswers04WhenNobodyComesInTime() async throws {
        let proxy = try await TestServer.start { $0.timeouts.bind = .milliseconds(300) }
        let port = proxy.port
        let start = Date()
        let (first, second, ending) = try await onThread { () -> ([UInt8], [UInt8], RawSocket.Ending) in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 0])
            _ = try client.receive(exactly: 2)
            return (try client.receive(exactly: 10), try client.receive(exactly: 10), client.waitForEnd())
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(first[1] == 0x00)
        #expect(second[1] == 0x04, "host unreachable: nobody connected")
        #expect(ending == .fin)
        #expect(elapsed > 0.25 && elapsed < 5, "at the 300 ms bind timeout: \(elapsed) s")
        await proxy.stop()
    }

    @Test func bindOverIPv6() async throws {
        let listener = try SocketAddress(ipAddress: "::1", port: 0)
        let proxy = try await TestServer.start { $0.listeners = [listener] }
        let port = proxy.port
        let loopback6 = [UInt8](repeating: 0, count: 15) + [1]
        let (first, second, peerPort, atClient, atPeer) = try await onThread { () -> ([UInt8], [UInt8], Int, [UInt8], [UInt8]) in
            let client = try RawSocket(port: port, ipv6: true)
            try client.send([5, 1, 0, 5, 2, 0, 4] + loopback6 + [0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 22)
            let peer = try RawSocket(port: BindIntegrationTests.port(first[20...]), ipv6: true)
            let second = try client.receive(exactly: 22)
            try peer.send([6])
            let atClient = try client.receive(exactly: 1)
            try client.send([9])
            return (first, second, peer.localPort, atClient, try peer.receive(exactly: 1))
        }
        #expect(first[0...3] == [5, 0, 0, 4] && Array(first[4..<20]) == loopback6, "the listener is on ::1")
        #expect(second[0...3] == [5, 0, 0, 4] && Array(second[4..<20]) == loopback6)
        #expect(BindIntegrationTests.port(second[20...]) == peerPort, "the second reply names the peer")
        #expect(atClient == [6] && atPeer == [9])
        await proxy.stop()
    }
}
