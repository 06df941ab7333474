import CalzinoPolicy
@testable import CalzinoServer
import NIOCore
import Glibc
import CalzinoTestSupport
import Testing

/// Session limits (total, per client, per user), the handshake rate per client, and bandwidth buckets
/// per session and per user, through the real server on loopback. Wall-clock rates: the tests run one at a
/// time, and `scripts/test.sh` runs the suite apart from the others, so that they measure the server, not
/// the load of parallel suites on two cores.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct LimitsTests {
    @Test func sessionsPerClientAndInTotal() async throws {
        let target = try await TestTarget.start(.echo)
        let perClient = try await TestServer.start { $0.limits.sessionsPerClient = 2 }
        let total = try await TestServer.start { $0.limits.maxSessions = 1 }
        let perClientPort = perClient.port, totalPort = total.port, targetPort = target.port
        let (third, afterClose, socks4) = try await onThread { () -> (UInt8, UInt8, UInt8) in
            let first = try Wire.connectReply(proxyPort: perClientPort, targetPort: targetPort).0
            let second = try Wire.connectReply(proxyPort: perClientPort, targetPort: targetPort).0
            let third = try Wire.connectReply(proxyPort: perClientPort, targetPort: targetPort).1
            first.close()
            var afterClose: UInt8 = 0xFF
            for _ in 0..<100 where afterClose != 0 {
                afterClose = try Wire.connectReply(proxyPort: perClientPort, targetPort: targetPort).1
                if afterClose != 0 { usleep(20_000) }
            }
            _ = second
            let only = try Wire.connectReply(proxyPort: totalPort, targetPort: targetPort).0
            let over = try RawSocket(port: totalPort)
            try over.send(Wire.socks4Connect(port: targetPort))
            let socks4 = try over.receive(exactly: 8)[1]
            only.close()
            return (third, afterClose, socks4)
        }
        #expect(third == 0x01, "the third session from one client is refused")
        #expect(afterClose == 0x00, "a closed session frees its place")
        #expect(socks4 == 0x5B, "SOCKS4 over the total limit")
        await perClient.stop()
        await total.stop()
        #expect(await perClient.accessLines(atLeast: 1).contains { $0.contains("reply=0x01") && $0.contains("limit sessions-per-client 2 reached") })
        #expect(await total.accessLines(atLeast: 1).contains { $0.contains("limit max-sessions 1 reached") })
        await target.stop()
    }

    @Test func sessionsPerUser() async throws {
        let target = try await TestTarget.start(.echo)
        let hash = try TestHashes.quick("pw")
        let users = UserStore(users: ["alice": hash, "bob": hash])
        let proxy = try await TestServer.start {
            $0.users = users
            $0.limits.sessionsPerUser = 1
        }
        let port = proxy.port, targetPort = target.port
        let (alice, aliceAgain, bob) = try await onThread { () -> (UInt8, UInt8, UInt8) in
            let first = try Wire.authenticatedConnect(proxyPort: port, targetPort: targetPort, user: "alice", password: "pw")
            let second = try Wire.authenticatedConnect(proxyPort: port, targetPort: targetPort, user: "alice", password: "pw")
            let third = try Wire.authenticatedConnect(proxyPort: port, targetPort: targetPort, user: "bob", password: "pw")
            defer { first.0.close(); third.0.close() }
            return (first.1, second.1, third.1)
        }
        #expect(alice == 0x00 && aliceAgain == 0x01 && bob == 0x00)
        await proxy.stop()
        #expect(await proxy.accessLines(atLeast: 1).contains { $0.contains("user=alice") && $0.contains("limit sessions-per-user 1 reached") })
        await target.stop()
    }

    @Test func handshakesPerClientPerSecond() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start { $0.limits.handshakesPerClientPerSecond = 5 }
        let port = proxy.port, targetPort = target.port
        let (served, closed, other) = try await onThread { () -> (Int, Int, [String]) in
            var served = 0, closed = 0
            var other: [String] = []
            for _ in 0..<15 {
                let socket = try RawSocket(port: port, timeoutSeconds: 2)
                // A refused connection may already be closed when the request goes out (then the send fails).
                try? socket.send(Wire.socks5Connect(port: targetPort))
                let (answer, ending) = socket.receive(upTo: 12)
                switch ending {
                case nil where answer[3] == 0: served += 1
                // Closed by the server without a byte, well within the 2 s receive timeout: a refusal. The
                // close races the request, so it comes as a FIN or (unread request bytes) a reset.
                case .fin? where answer.isEmpty, .reset? where answer.isEmpty: closed += 1
                default: other.append("\(answer) \(String(describing: ending))")
                }
                socket.close()
            }
            return (served, closed, other)
        }
        #expect(served >= 5 && served <= 8, "about one second's worth is served: \(served)")
        #expect(closed >= 7, "the rest are closed at once: \(closed)")
        #expect(other.isEmpty, "neither served nor closed at once: \(other)")
        try await Task.sleep(nanoseconds: 1_100_000_000)
        let later = try await onThread { try Wire.connectReply(proxyPort: port, targetPort: targetPort).1 }
        #expect(later == 0x00, "the bucket refills")
        await proxy.stop()
        await target.stop()
    }

    /// The rate every bandwidth test sets, 1 MiB/s, held within 10% over `seconds` for `bytes`.
    static func expectOneMebibytePerSecond(_ bytes: Int, over seconds: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let rate = Double(bytes) / seconds / Double(1 << 20)
        #expect(rate > 0.9 && rate < 1.1, "\(what): \(rate) MiB/s measured over \(seconds) s", sourceLocation: sourceLocation)
    }

    /// Two downloads of `count` bytes as `user` at once: when each started and ended, and the span from the
    /// first start to the last end (the two may start a moment apart).
    static func twoDownloadsAtOnce(proxyPort: Int, targetPort: Int, count: Int, user: String) async throws -> ((NIODeadline, NIODeadline), (NIODeadline, NIODeadline), Double) {
        async let first = onThread { try Self.download(proxyPort: proxyPort, targetPort: targetPort, count: count, user: user) }
        async let second = onThread { try Self.download(proxyPort: proxyPort, targetPort: targetPort, count: count, user: user) }
        let (one, two) = try await (first, second)
        return (one, two, Double((max(one.1, two.1) - min(one.0, two.0)).nanoseconds) / 1e9)
    }

    /// Downloads `count` bytes through a tunnel and returns the seconds it took.
    static func timedDownload(proxyPort: Int, targetPort: Int, count: Int, user: String? = nil) throws -> Double {
        let (start, end) = try Self.download(proxyPort: proxyPort, targetPort: targetPort, count: count, user: user)
        return Double((end - start).nanoseconds) / 1e9
    }

    /// Downloads `count` bytes through a tunnel; returns when the first byte was asked for and the last came.
    static func download(proxyPort: Int, targetPort: Int, count: Int, user: String? = nil) throws -> (NIODeadline, NIODeadline) {
        let socket: RawSocket
        if let user {
            socket = try Wire.authenticatedConnect(proxyPort: proxyPort, targetPort: targetPort, user: user, password: "pw").0
        } else {
            socket = try Wire.connectReply(proxyPort: proxyPort, targetPort: targetPort).0
        }
        defer { socket.close() }
        let start = NIODeadline.now()
        let received = try socket.drainCounting { _, _ in true }
        guard received == count else { throw RawSocket.Failure(description: "received \(received) of \(count)") }
        return (start, NIODeadline.now())
    }

    @Test func sessionBandwidthHoldsTheRate() async throws {
        let count = 3 << 20
        let target = try await TestTarget.start(.source(count: count))
        // Set by a rule, as a configuration file does.
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: slow, action: allow, bandwidth: {down: 1MiB}}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port, targetPort = target.port
        let seconds = try await onThread { try Self.timedDownload(proxyPort: port, targetPort: targetPort, count: count) }
        Self.expectOneMebibytePerSecond(count, over: seconds, "1 MiB/s set")
        await proxy.stop()
        await target.stop()
    }

    /// Uploads through a rule's `up` limit, timed until the target has everything.
    @Test func uploadBandwidthHoldsTheRate() async throws {
        let count = 3 << 20
        let sink = try await TestTarget.start { CountingSink(count: count) }
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: slow-up, action: allow, bandwidth: {up: 1MiB}}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port, sinkPort = sink.port
        let seconds = try await onThread { () -> Double in
            let socket = try Wire.connectReply(proxyPort: port, targetPort: sinkPort).0
            defer { socket.close() }
            let start = NIODeadline.now()
            let chunk = [UInt8](repeating: 7, count: 64 << 10)
            for _ in 0..<(count / chunk.count) { try socket.send(chunk) }
            _ = try socket.receive(exactly: 1)  // the sink's "all here"
            return Double((NIODeadline.now() - start).nanoseconds) / 1e9
        }
        Self.expectOneMebibytePerSecond(count, over: seconds, "1 MiB/s set")
        await proxy.stop()
        await sink.stop()
    }

    /// Two sessions of one user share the user's rate, about evenly.
    @Test func userBandwidthIsSharedFairly() async throws {
        let count = 3 << 19  // 1.5 MiB each
        let target = try await TestTarget.start(.source(count: count))
        let hash = try TestHashes.quick("pw")
        let proxy = try await TestServer.start {
            $0.users = UserStore(users: ["alice": hash])
            $0.limits.bandwidthPerUser = Bandwidth(down: 1 << 20)
        }
        let port = proxy.port, targetPort = target.port
        let (one, two, span) = try await Self.twoDownloadsAtOnce(proxyPort: port, targetPort: targetPort, count: count, user: "alice")
        Self.expectOneMebibytePerSecond(2 * count, over: span, "1 MiB/s shared")
        let a = Double((one.1 - one.0).nanoseconds) / 1e9, b = Double((two.1 - two.0).nanoseconds) / 1e9
        #expect(min(a, b) / max(a, b) > 0.75, "each gets about half: \(a) s and \(b) s")
        await proxy.stop()
        await target.stop()
    }
}

/// Reads `count` bytes, then answers one byte: the upload arrived.
final class CountingSink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let count: Int
    private var received = 0

    init(count: Int) {
        self.count = count
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        if self.received >= self.count, self.received - self.unwrapInboundIn(data).readableBytes < self.count {
            context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(bytes: [1])), promise: nil)
        }
    }
}

/// Issue 12, defect 12, through the server: one client on a 127.0.0.1 listener and a `[::ffff:127.0.0.1]`
/// listener is one client for `sessions-per-client`; IPv6 clients of one /64 share a count.
@Suite(.timeLimit(.minutes(1)))
struct ClientKeyLimitsTests {
    @Test func oneClientThroughBothFamiliesIsCountedOnce() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start {
            $0.listeners.append(try! SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 0))
            $0.limits.sessionsPerClient = 1
        }
        try #require(proxy.ports.count == 2, "the mapped listener is bound")
        let first = proxy.ports[0], second = proxy.ports[1], targetPort = target.port
        let (held, heldReply, throughMapped) = try await onThread { () -> (RawSocket, UInt8, UInt8) in
            let held = try Wire.connectReply(proxyPort: first, targetPort: targetPort)
            return (held.0, held.1, try Wire.connectReply(proxyPort: second, targetPort: targetPort).1)
        }
        #expect(heldReply == 0)
        #expect(throughMapped == 0x01, "the second session of the same client is over sessions-per-client 1")
        held.close()
        await proxy.stop()
        await target.stop()
    }

    @Test func ipv6ClientsOfOneNetworkShareACount() throws {
        let counter = SessionCounter()
        let limits = Limits(sessionsPerClient: 1)
        let one = limits.clientKey(try SocketAddress(ipAddress: "2001:db8:0:1::1", port: 1))
        let sameNetwork = limits.clientKey(try SocketAddress(ipAddress: "2001:db8:0:1::2", port: 1))
        let otherNetwork = limits.clientKey(try SocketAddress(ipAddress: "2001:db8:0:2::1", port: 1))
        #expect(counter.admit(client: one, user: nil, limits: limits) == nil)
        #expect(counter.admit(client: sameNetwork, user: nil, limits: limits) == "sessions-per-client 1")
        #expect(counter.admit(client: otherNetwork, user: nil, limits: limits) == nil)
        let rates = HandshakeRateLimiter()
        #expect(rates.allow(client: one, perSecond: 1))
        #expect(!rates.allow(client: sameNetwork, perSecond: 1), "one bucket per /64")
        #expect(rates.allow(client: otherNetwork, perSecond: 1))
    }
}
