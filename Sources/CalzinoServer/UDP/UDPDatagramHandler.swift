import NIOCore

/// Hands every datagram of one of an association's sockets to the association.
final class UDPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    enum Side {
        /// The socket the client sends to.
        case client
        /// A socket that talks to destinations.
        case target
    }

    private weak var association: UDPAssociation?
    private let side: Side

    init(association: UDPAssociation, side: Side) {
        self.association = association
        self.side = side
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        switch self.side {
        case .client: self.association?.fromClient(envelope)
        case .target: self.association?.fromTarget(envelope)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket reports ICMP errors (a closed port at the destination) as errors on the next
        // operation; they end nothing.
    }
}

@available(*, unavailable)
extension UDPDatagramHandler: Sendable {}
