import NIOCore
import NIOPosix

/// A UDP echo server on loopback: the far end of the UDP tests.
package final class UDPEchoTarget: Sendable {
    package let channel: any Channel
    package var port: Int { self.channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    package static func start(host: String = "127.0.0.1") async throws -> UDPEchoTarget {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 70_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: host, port: 0)
            .get()
        return UDPEchoTarget(channel: channel)
    }

    package func stop() async {
        try? await self.channel.close()
    }

    private final class Echo: ChannelInboundHandler {
        package typealias InboundIn = AddressedEnvelope<ByteBuffer>
        package typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }
}
