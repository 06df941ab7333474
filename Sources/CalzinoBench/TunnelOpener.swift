import NIOCore
import NIOPosix
import CalzinoClient
import SOCKSCore

/// Opens a tunnel to a target: a plain connect for `direct`, or a SOCKS5 handshake (with RFC 1929
/// credentials when the route has them) through the proxy. The returned channel's pipeline is empty and
/// ready for a measurement handler.
struct TunnelOpener: Sendable {
    let route: BenchRoute
    let group: any EventLoopGroup
    /// Local addresses to spread client connections over (each connect picks the next).
    let sourceHosts: [String]

    static let sourceOptionLevel = NIOBSDSocket.OptionLevel.ip
    /// IP_BIND_ADDRESS_NO_PORT: choose the local port at connect time, per 4-tuple, not at bind time.
    static let bindAddressNoPort = NIOBSDSocket.Option(rawValue: 24)

    func open(to target: SocketAddress, index: Int, on eventLoop: (any EventLoop)? = nil) -> EventLoopFuture<any Channel> {
        let loop = eventLoop ?? self.group.next()
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.Types.SocketOption(level: Self.sourceOptionLevel, name: Self.bindAddressNoPort), value: 1)
            .connectTimeout(.seconds(10))
        if !self.sourceHosts.isEmpty, let local = try? SocketAddress(ipAddress: self.sourceHosts[index % self.sourceHosts.count], port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        switch self.route {
        case .direct:
            return bootstrap.connect(to: target)
        case .socks5(let proxy, let username, let password):
            let credentials = username.flatMap { user in password.map { (user, $0) } }
            return bootstrap.connect(to: proxy).flatMap { channel in
                let reply = channel.eventLoop.makePromise(of: SOCKS5Reply.self)
                let handshake = SOCKS5ClientHandshakeHandler(
                    command: .connect,
                    destination: SOCKSEndpoint(target),
                    credentials: credentials,
                    reply: reply
                )
                do {
                    try channel.pipeline.syncOperations.addHandler(handshake)
                } catch {
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return reply.futureResult.map { _ in channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
        }
    }
}
