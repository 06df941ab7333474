@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// BIND through the real server on loopback, SOCKS4 and SOCKS5: both replies, the relay, the peer check,
/// the deadline and a client that leaves early.
@Suite(.timeLimit(.minutes(1)))
struct BindIntegrationTests {
    static func port(_ bytes: ArraySlice<UInt8>) -> Int {
        Int(bytes[bytes.startIndex]) << 8 | Int(bytes[bytes.startIndex + 1])
    }

    @Test func socks5BindRepliesTwiceAndRelays() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let result = try await onThread { () -> ([UInt8], [UInt8], Int, [UInt8], [UInt8]) in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 10)
            let listenPort = Self.port(first[8...])
            let peer = try RawSocket(port: listenPort)
            let second = try client.receive(exactly: 10)
            try peer.send(Array("from peer".utf8))
            let atClient = try client.receive(exactly: 9)
            try client.send(Array("from client".utf8))
            let atPeer = try peer.receive(exactly: 11)
            return (first, second, peer.localPort, atClient, atPeer)
        }
        let (first, second, peerPort, atClient, atPeer) = result
        #expect(first[0...3] == [5, 0, 0, 1])
        #expect(Array(first[4...7]) == [127, 0, 0, 1], "the listener is on the egress address")
        #expect(Self.port(first[8...]) != 0)
        #expect(second[0...3] == [5, 0, 0, 1])
        #expect(Array(second[4...7]) == [127, 0, 0, 1])
        #expect(Self.port(second[8...]) == peerPort, "the second reply names the peer")
        #expect(atClient == Array("from peer".utf8))
        #expect(atPeer == Array("from client".utf8))
        await proxy.stop()
    }

    @Test func socks4BindRepliesTwiceAndRelays() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let (first, second, echoed) = try await onThread { () -> ([UInt8], [UInt8], [UInt8]) in
            let client = try RawSocket(port: port)
            try client.send([4, 2, 0, 0, 127, 0, 0, 1, 0])
            let first = try client.receive(exactly: 8)
            let peer = try RawSocket(port: Self.port(first[2...]))
            let second = try client.receive(exactly: 8)
            try client.send([1, 2, 3])
            return (first, second, try peer.receive(exactly: 3))
        }
        #expect(first[0...1] == [0, 0x5A])
        #expect(Array(first[4...7]) == [127, 0, 0, 1])
        #expect(second[0...1] == [0, 0x5A])
        #expect(Array(second[4...7]) == [127, 0, 0, 1])
        #expect(echoed == [1, 2, 3])
        await proxy.stop()
    }

    @Test func theNamedPeerIsAdmitted() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let second = try await onThread { () -> [UInt8] in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 2, 0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 10)
            let peer = try RawSocket(port: Self.port(first[8...]), localHost: "127.0.0.2")
            _ = peer
            return try client.receive(exactly: 10)
        }
        #expect(second[1] == 0x00)
        #expect(Array(second[4...7]) == [127, 0, 0, 2])
        await proxy.stop()
    }

    @Test func aDifferentPeerIsRefused() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let (second, clientClosed, peerClosed) = try await onThread { () -> ([UInt8], Bool, Bool) in
            let client = try RawSocket(port: port)
            // The client expects 127.0.0.2; the peer comes from 127.0.0.3.
            try client.send([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 2, 0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 10)
            let peer = try RawSocket(port: Self.port(first[8...]), localHost: "127.0.0.3")
            let second = try client.receive(exactly: 10)
            return (second, client.waitForFIN(), peer.waitForFIN())
        }
        #expect(second[1] == 0x02, "not allowed")
        #expect(clientClosed)
        #expect(peerClosed)
        await proxy.stop()
    }

    @Test func acceptDeadlineFailsTheSecondReply() async throws {
        let proxy = try await TestServer.start { $0.timeouts.bind = .milliseconds(300) }
        let port = proxy.port
        let (first, second, closed) = try await onThread { () -> ([UInt8], [UInt8], Bool) in
            let client = try RawSocket(port: port)
            try client.send([4, 2, 0, 0, 127, 0, 0, 1, 0])
            return (try client.receive(exactly: 8), try client.receive(exactly: 8), client.waitForFIN())
        }
        #expect(first[1] == 0x5A)
        #expect(second[1] == 0x5B)
        #expect(closed)
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("command=bind") == true)
        await proxy.stop()
    }

    @Test func aClientLeavingEarlyClosesTheListener() async throws {
        let proxy = try await TestServer.start()
        let port = proxy.port
        let listenPort = try await onThread { () -> Int in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 10)
            client.close()
            return Self.port(first[8...])
        }
        var refused = false
        for _ in 0..<100 where !refused {
            try await Task.sleep(nanoseconds: 10_000_000)
            refused = (try? RawSocket(port: listenPort, timeoutSeconds: 1)) == nil
        }
        #expect(refused, "the listener is gone")
        await proxy.stop()
    }
}
