@testable import CalzinoServer
import Foundation
import Glibc
import NIOCore
import NIOPosix
import CalzinoTestSupport
import Testing

/// The relay through the real server on loopback: pipelining, half-close, bulk, many tunnels, backpressure.
@Suite(.timeLimit(.minutes(3)))
struct RelayIntegrationTests {
    @Test func socks5RequestPipelinedWithPayloadInOneWrite() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let (method, reply, echoed) = try await onThread {
            let socket = try RawSocket(port: port)
            let payload = Array("hello through the proxy".utf8)
            try socket.send([5, 1, 0] + Wire.socks5Connect(port: targetPort).dropFirst(3) + payload)
            let (method, reply) = try Wire.readSOCKS5Reply(socket)
            return (method, reply, try socket.receive(exactly: payload.count))
        }
        #expect(method == 0)
        #expect(reply[0...3] == [5, 0, 0, 1])
        #expect(Array(reply[4...7]) == [127, 0, 0, 1], "BND.ADDR is the outbound socket's local address")
        #expect(reply[8] != 0 || reply[9] != 0, "BND.PORT is the outbound socket's local port")
        #expect(echoed == Array("hello through the proxy".utf8))
        await proxy.stop()
        await target.stop()
    }

    @Test func socks4RequestPipelinedWithPayloadInOneWrite() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let (reply, echoed) = try await onThread {
            let socket = try RawSocket(port: port)
            try socket.send(Wire.socks4Connect(port: targetPort) + Array("ping".utf8))
            return (try socket.receive(exactly: 8), try socket.receive(exactly: 4))
        }
        #expect(reply[0...1] == [0, 0x5A])
        #expect(echoed == Array("ping".utf8))
        await proxy.stop()
        await target.stop()
    }

    @Test func clientHalfCloseStillReceivesEverything() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let received = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            try socket.send(TestPattern.bytes(from: 0, count: 500_000))
            socket.shutdownWrite()
            // The echo target sees our EOF only through the proxy, echoes everything, then shuts its side.
            return try socket.receiveUntilEOF()
        }
        #expect(received.count == 500_000)
        #expect(received == TestPattern.bytes(from: 0, count: 500_000))
        await proxy.stop()
        await target.stop()
    }

    @Test func targetHalfCloseStillReceivesEverything() async throws {
        let recorder = TargetRecorder()
        let target = try await recorder.start(greeting: Array("bye".utf8))
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let (greeting, ending) = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            // The target has sent "bye" and shut its write half: we see EOF, and may still send.
            let greeting = try socket.receiveUntilEOF()
            try socket.send(TestPattern.bytes(from: 0, count: 300_000))
            socket.shutdownWrite()
            // Both directions done: the server closes in order once the target has closed.
            return (greeting, socket.waitForEnd())
        }
        #expect(greeting == Array("bye".utf8))
        #expect(ending == .fin, "the server closed the finished session with a FIN, not \(ending)")
        let (recorded, targetEnding) = await recorder.waitForEnd()
        #expect(targetEnding == .eof, "our FIN reached the target as its EOF")
        #expect(recorded.count == 300_000)
        #expect(recorded == TestPattern.bytes(from: 0, count: 300_000))
        await proxy.stop()
        await target.stop()
    }

    @Test func sixtyFourMebibytesBothWaysAtOnce() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let result = try await ProcessRunner.run(
            ["python3", TestPaths.script("bulk_both_ways.py"), "\(proxy.port)", "\(target.port)", "\(64 << 20)"],
            timeout: 150
        )
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(output) \(result.stderr)")
        let fields = output.split(separator: " ")
        #expect(fields.count == 3 && fields[0] == fields[1], "SHA-256 up and down: \(output)")
        await proxy.stop()
        await target.stop()
    }

    @Test func twoHundredConcurrentTunnels() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let tunnels = 200, size = 32 * 1024
        let sockets = try await onThread {
            try (0..<tunnels).map { _ -> RawSocket in
                let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
                return socket
            }
        }
        #expect(proxy.server.openSessions == tunnels, "all tunnels are open at once")
        let mismatches = try await onThread {
            let pattern = TestPattern.bytes(from: 0, count: tunnels * size)
            for (i, socket) in sockets.enumerated() {
                try socket.send(Array(pattern[(i * size)..<((i + 1) * size)]))
                socket.shutdownWrite()
            }
            var mismatches = 0
            for (i, socket) in sockets.enumerated() where try socket.receiveUntilEOF()[...] != pattern[(i * size)..<((i + 1) * size)] {
                mismatches += 1
            }
            return mismatches
        }
        #expect(mismatches == 0)
        await proxy.stop()
        await target.stop()
    }

    /// A client that stops reading while its target pushes 32 MiB: the server's buffer towards the client
    /// stays within the documented bound, and the session resumes intact when the client reads.
    @Test func slowReaderKeepsServerMemoryBounded() async throws {
        let total = 32 << 20
        let target = try await TestTarget.start(.source(count: total))
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port
        let socket = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            return socket
        }
        var largest = 0
        for _ in 0..<40 {
            try await Task.sleep(nanoseconds: 25_000_000)
            largest = max(largest, (await proxy.server.clientBufferedBytes()).max() ?? 0)
        }
        let bound = RelayTuning.maximumBufferedBytesPerDirection
        #expect(largest > 0, "the target pushed more than the client took")
        #expect(largest <= bound, "server buffered \(largest) bytes towards a client that does not read")
        let received = try await onThread {
            // Checking a sample of each chunk keeps a debug build fast; any lost or reordered chunk shows.
            defer { socket.close() }
            return try socket.drainCounting { offset, bytes in
                bytes.first == TestPattern.byte(at: offset) && bytes.last == TestPattern.byte(at: offset + bytes.count - 1)
            }
        }
        #expect(received == total)
        await proxy.stop()
        await target.stop()
    }
}

extension RelayIntegrationTests {
    @Test func idleTimeoutClosesAQuietSession() async throws {
        let target = try await TestTarget.start(.echo)
        // 2 s: short for a test, long enough that a loaded machine relays the one byte before it passes.
        let proxy = try await TestServer.start { $0.timeouts.idle = .seconds(2) }
        let port = proxy.port, targetPort = target.port
        let (echo, closed) = try await onThread {
            let socket = try RawSocket(port: port)
            try socket.send(Wire.socks5Connect(port: targetPort) + [1])
            _ = try Wire.readSOCKS5Reply(socket)
            return (try socket.receive(exactly: 1), socket.waitForFIN())
        }
        #expect(echo == [1])
        #expect(closed)
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("idle timeout") == true)
        await proxy.stop()
        await target.stop()
    }
}

extension RelayIntegrationTests {
    /// An IPv6 listener, an IPv6 destination (ATYP 0x04), and a reply naming the IPv6 outbound address.
    @Test func ipv6ListenerAndDestination() async throws {
        let target = try await TestTarget.start(.echo, host: "::1")
        let proxy = try await TestServer.start { $0.listeners = [try! SocketAddress(ipAddress: "::1", port: 0)] }
        let port = proxy.port, targetPort = target.port
        let (reply, echo) = try await onThread {
            let socket = try RawSocket(port: port, ipv6: true)
            try socket.send([5, 1, 0, 5, 1, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, UInt8(targetPort >> 8), UInt8(targetPort & 0xFF), 0x66])
            _ = try socket.receive(exactly: 2)
            return (try socket.receive(exactly: 22), try socket.receive(exactly: 1))
        }
        #expect(reply[0...3] == [5, 0, 0, 4])
        #expect(Array(reply[4..<20]) == [UInt8](repeating: 0, count: 15) + [1])
        #expect(echo == [0x66])
        await proxy.stop()
        await target.stop()
    }
}
