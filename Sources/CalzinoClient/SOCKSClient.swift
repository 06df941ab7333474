import NIOCore
import NIOPosix
import SOCKSCore

/// A SOCKS5 client: CONNECT, BIND and UDP ASSOCIATE through one proxy, with async results.
///
/// The channels it returns have empty pipelines, ready for the caller's handlers; reading starts as soon as
/// a handler asks for it (NIO's `autoRead`).
public struct SOCKSClient: Sendable {
    public var proxy: SocketAddress
    public var credentials: (username: String, password: String)?
    public var group: any EventLoopGroup

    public init(proxy: SocketAddress, credentials: (username: String, password: String)? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.proxy = proxy
        self.credentials = credentials
        self.group = group
    }

    /// CONNECT: a tunnel to `destination`.
    public func connect(to destination: SOCKSEndpoint) async throws -> SOCKSTunnel {
        let (channel, reply, _) = try await self.request(.connect, destination: destination, twoReplies: false)
        return SOCKSTunnel(channel: channel, bound: try await reply.get().bound)
    }

    /// BIND: asks the proxy to listen for one connection from `peer` (0.0.0.0:0 for any). The result names
    /// where the proxy listens; its `peer()` waits for the connection.
    public func bind(expecting peer: SOCKSEndpoint) async throws -> SOCKSBinding {
        let (channel, first, second) = try await self.request(.bind, destination: peer, twoReplies: true)
        return SOCKSBinding(listening: try await first.get().bound, channel: channel, second: second)
    }

    /// UDP ASSOCIATE: a relay for datagrams, and a local datagram socket that talks to it. The socket is
    /// opened first, on the address the control connection leaves from, and the request names its port: a
    /// proxy may serve only a client that declares where its datagrams come from (Calzino does by default).
    public func udpAssociate() async throws -> SOCKSUDPAssociation {
        let control = try await self.connectToProxy()
        do {
            guard let local = control.localAddress?.ipAddress else {
                throw SOCKSClientError(.closedEarly)  // the proxy closed the connection at once
            }
            let socket = try await SOCKSUDPAssociation.LocalSocket.open(host: local, group: self.group)
            let declared = SOCKSEndpoint(host: control.localAddress?.protocol == .inet6 ? .unspecifiedIPv6 : .unspecifiedIPv4, port: UInt16(clamping: socket.port))
            do {
                let (reply, _) = try await self.handshake(on: control, .udpAssociate, destination: declared, twoReplies: false)
                guard let relay = try await reply.get().bound.socketAddress else {
                    throw SOCKSClientError(.requestFailed(.addressTypeNotSupported))
                }
                return SOCKSUDPAssociation(relay: relay, control: control, local: socket)
            } catch {
                socket.channel.close(promise: nil)
                throw error
            }
        } catch {
            control.close(promise: nil)
            throw error
        }
    }

    private func request(
        _ command: SOCKS5Command,
        destination: SOCKSEndpoint,
        twoReplies: Bool
    ) async throws -> (any Channel, EventLoopFuture<SOCKS5Reply>, EventLoopFuture<SOCKS5Reply>?) {
        let channel = try await self.connectToProxy()
        let (first, second) = try await self.handshake(on: channel, command, destination: destination, twoReplies: twoReplies)
        return (channel, first, second)
    }

    private func connectToProxy() async throws -> any Channel {
        try await ClientBootstrap(group: self.group).connect(to: self.proxy).get()
    }

    private func handshake(
        on channel: any Channel,
        _ command: SOCKS5Command,
        destination: SOCKSEndpoint,
        twoReplies: Bool
    ) async throws -> (EventLoopFuture<SOCKS5Reply>, EventLoopFuture<SOCKS5Reply>?) {
        let credentials = self.credentials
        return try await channel.eventLoop.submit {
            let first = channel.eventLoop.makePromise(of: SOCKS5Reply.self)
            let second = twoReplies ? channel.eventLoop.makePromise(of: SOCKS5Reply.self) : nil
            do {
                try channel.pipeline.syncOperations.addHandler(
                    SOCKS5ClientHandshakeHandler(command: command, destination: destination, credentials: credentials, reply: first, secondReply: second)
                )
            } catch {
                // The proxy closed the connection already: no handler will ever complete the promises.
                first.fail(error)
                second?.fail(error)
                channel.close(promise: nil)
                throw error
            }
            return (first.futureResult, second?.futureResult)
        }.get()
    }
}

/// An open tunnel: the channel to the proxy, past the handshake, and the address the proxy named.
public struct SOCKSTunnel: Sendable {
    public let channel: any Channel
    /// CONNECT: the proxy's address towards the target. BIND: the peer that connected.
    public let bound: SOCKSEndpoint
}

/// A BIND in progress: the proxy listens at `listening`.
public struct SOCKSBinding: Sendable {
    public let listening: SOCKSEndpoint
    let channel: any Channel
    let second: EventLoopFuture<SOCKS5Reply>?

    /// Waits for the peer; the tunnel's `bound` names it.
    public func peer() async throws -> SOCKSTunnel {
        guard let second = self.second else { throw SOCKSClientError(.closedEarly) }
        return SOCKSTunnel(channel: self.channel, bound: try await second.get().bound)
    }

    /// Gives up the BIND (closes the control connection; the proxy closes its listener).
    public func cancel() {
        self.channel.close(promise: nil)
    }
}
