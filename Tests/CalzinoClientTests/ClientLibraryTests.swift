import CalzinoClient
import CalzinoServer
import NIOCore
import NIOPosix
import SOCKSCore
import CalzinoTestSupport
import Testing

/// Our own client library against our own server: CONNECT (with and without RFC 1929), BIND and UDP ASSOCIATE.
@Suite(.timeLimit(.minutes(1)))
struct ClientLibraryTests {
    /// Collects what a channel reads, so async code can wait for a number of bytes.
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let stream: AsyncStream<ByteBuffer>
        private let continuation: AsyncStream<ByteBuffer>.Continuation

        init() {
            (self.stream, self.continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.continuation.yield(self.unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.continuation.finish()
        }

        static func attach(to channel: any Channel) async throws -> Collector {
            let collector = Collector()
            try await channel.eventLoop.submit { try channel.pipeline.syncOperations.addHandler(collector) }.get()
            return collector
        }

        func bytes(_ count: Int) async -> [UInt8] {
            var result: [UInt8] = []
            for await chunk in self.stream {
                result += chunk.readableBytesView
                if result.count >= count { break }
            }
            return result
        }
    }

    static func proxyAddress(_ proxy: TestServer) throws -> SocketAddress {
        try SocketAddress(ipAddress: "127.0.0.1", port: proxy.port)
    }

    @Test func connect() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let client = SOCKSClient(proxy: try Self.proxyAddress(proxy))
        let tunnel = try await client.connect(to: SOCKSEndpoint(host: .name("localhost"), port: UInt16(target.port)))
        let collector = try await Collector.attach(to: tunnel.channel)
        try await tunnel.channel.writeAndFlush(ByteBuffer(string: "hello"))
        #expect(await collector.bytes(5) == Array("hello".utf8))
        #expect(tunnel.bound.host == .ipv4(0x7F00_0001))
        try? await tunnel.channel.close()
        await proxy.stop()
        await target.stop()
    }

    @Test func connectFailureCarriesTheReplyCode() async throws {
        let proxy = try await TestServer.start()
        let closed = try ClosedPort()
        let client = SOCKSClient(proxy: try Self.proxyAddress(proxy))
        await #expect(throws: SOCKSClientError(.requestFailed(.connectionRefused))) {
            _ = try await client.connect(to: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: UInt16(closed.port)))
        }
        await proxy.stop()
    }

    /// RFC 1929 through the client library: the right password tunnels, a wrong one and none are refused
    /// with their own errors.
    @Test func usernameAndPassword() async throws {
        let target = try await TestTarget.start(.echo)
        let hash = try TestHashes.quick("pw")
        let proxy = try await TestServer.start { $0.users = UserStore(users: ["alice": hash]) }
        let destination = SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: UInt16(target.port))
        let address = try Self.proxyAddress(proxy)
        let tunnel = try await SOCKSClient(proxy: address, credentials: ("alice", "pw")).connect(to: destination)
        let collector = try await Collector.attach(to: tunnel.channel)
        try await tunnel.channel.writeAndFlush(ByteBuffer(string: "authenticated"))
        #expect(await collector.bytes(13) == Array("authenticated".utf8))
        try? await tunnel.channel.close()
        await #expect(throws: SOCKSClientError(.authenticationFailed)) {
            _ = try await SOCKSClient(proxy: address, credentials: ("alice", "wrong")).connect(to: destination)
        }
        await #expect(throws: SOCKSClientError(.noAcceptableMethod)) {
            _ = try await SOCKSClient(proxy: address).connect(to: destination)
        }
        let lines = await proxy.accessLines(atLeast: 3)
        #expect(lines.contains { $0.contains("user=alice") && $0.contains("reply=0x00") }, "\(lines)")
        await proxy.stop()
        await target.stop()
    }

    @Test func bind() async throws {
        let proxy = try await TestServer.start()
        let client = SOCKSClient(proxy: try Self.proxyAddress(proxy))
        let binding = try await client.bind(expecting: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 0))
        #expect(binding.listening.host == .ipv4(0x7F00_0001))
        let peer = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: try #require(binding.listening.socketAddress)).get()
        let tunnel = try await binding.peer()
        #expect(tunnel.bound.port == UInt16(peer.localAddress?.port ?? 0), "the second reply names the peer")
        let atPeer = try await Collector.attach(to: peer)
        try await tunnel.channel.writeAndFlush(ByteBuffer(string: "to the peer"))
        #expect(await atPeer.bytes(11) == Array("to the peer".utf8))
        // Closing the peer makes the proxy end the tunnel too, so either close may find its channel closed.
        try? await peer.close()
        try? await tunnel.channel.close()
        await proxy.stop()
    }

    @Test func udpAssociate() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let client = SOCKSClient(proxy: try Self.proxyAddress(proxy))
        let association = try await client.udpAssociate()
        #expect(association.relay.ipAddress == "127.0.0.1")
        let destination = SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: UInt16(echo.port))
        try await association.send(ByteBuffer(string: "datagram"), to: destination)
        let answer = await association.receive()
        #expect(answer?.source == destination)
        #expect(answer.map { String(buffer: $0.payload) } == "datagram")
        association.close()
        await proxy.stop()
        await echo.stop()
    }
}
