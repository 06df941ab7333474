import NIOCore
import NIOPosix
import SOCKSCore

/// A UDP association: a local datagram socket that wraps what it sends in the RFC 1928 header and unwraps
/// what comes back; it lasts as long as its control connection.
public final class SOCKSUDPAssociation: Sendable {
    /// The relay's address from the proxy's reply.
    public let relay: SocketAddress
    private let control: any Channel
    private let socket: any Channel
    private let datagrams: AsyncStream<(source: SOCKSEndpoint, payload: ByteBuffer)>

    init(relay: SocketAddress, control: any Channel, local: LocalSocket) {
        self.relay = relay
        self.control = control
        self.socket = local.channel
        self.datagrams = local.datagrams
        let socket = local.channel, continuation = local.continuation
        // The association ends with its control connection; so does the local socket.
        control.closeFuture.whenComplete { _ in
            socket.close(promise: nil)
            continuation.finish()
        }
    }

    /// The local datagram socket, open before the request so that the request can name its port.
    struct LocalSocket {
        let channel: any Channel
        let datagrams: AsyncStream<(source: SOCKSEndpoint, payload: ByteBuffer)>
        let continuation: AsyncStream<(source: SOCKSEndpoint, payload: ByteBuffer)>.Continuation
        var port: Int { self.channel.localAddress?.port ?? 0 }

        static func open(host: String, group: any EventLoopGroup) async throws -> LocalSocket {
            let (stream, continuation) = AsyncStream.makeStream(of: (source: SOCKSEndpoint, payload: ByteBuffer).self, bufferingPolicy: .bufferingNewest(1024))
            let channel = try await DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 66_000))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Unwrapper(continuation: continuation))
                    }
                }
                .bind(host: host, port: 0)
                .get()
            return LocalSocket(channel: channel, datagrams: stream, continuation: continuation)
        }
    }

    /// Sends `payload` to `destination` through the relay.
    public func send(_ payload: ByteBuffer, to destination: SOCKSEndpoint) async throws {
        var datagram = self.socket.allocator.buffer(capacity: payload.readableBytes + 262)
        datagram.writeSOCKSUDPHeader(SOCKSUDPHeader(endpoint: destination))
        var payload = payload
        datagram.writeBuffer(&payload)
        try await self.socket.writeAndFlush(AddressedEnvelope(remoteAddress: self.relay, data: datagram))
    }

    /// The next datagram and the destination it came from; `nil` once the association has ended.
    public func receive() async -> (source: SOCKSEndpoint, payload: ByteBuffer)? {
        var iterator = self.datagrams.makeAsyncIterator()
        return await iterator.next()
    }

    /// Ends the association.
    public func close() {
        self.control.close(promise: nil)
        self.socket.close(promise: nil)
    }

    /// Unwraps datagrams from the relay; anything malformed, or from elsewhere, is dropped.
    private final class Unwrapper: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let continuation: AsyncStream<(source: SOCKSEndpoint, payload: ByteBuffer)>.Continuation

        init(continuation: AsyncStream<(source: SOCKSEndpoint, payload: ByteBuffer)>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var datagram = self.unwrapInboundIn(data).data
            guard let header = try? datagram.readSOCKSUDPHeader(), header.fragment == 0 else { return }
            self.continuation.yield((header.endpoint, datagram))
        }
    }
}
