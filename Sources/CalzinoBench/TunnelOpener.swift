import NIOCore
import NIOPosix
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
                let promise = channel.eventLoop.makePromise(of: Void.self)
                let handshake = SOCKS5ClientHandshake(target: SOCKSEndpoint(target), credentials: credentials, done: promise)
                do {
                    try channel.pipeline.syncOperations.addHandler(handshake)
                } catch {
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return promise.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
        }
    }
}

/// The client half of a SOCKS5 CONNECT handshake, one message at a time (no pipelining, so that every
/// proxy is measured on the same exchange). Removes itself when the tunnel is up.
final class SOCKS5ClientHandshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case greeting, authentication, request, done }
    private var state = State.greeting
    private var buffer = ByteBuffer()
    private let target: SOCKSEndpoint
    private let credentials: (String, String)?
    private let done: OneShot<Void>

    init(target: SOCKSEndpoint, credentials: (String, String)?, done: EventLoopPromise<Void>) {
        self.target = target
        self.credentials = credentials
        self.done = OneShot(done)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.sendGreeting(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.sendGreeting(context: context) }
    }

    private var greeted = false
    private func sendGreeting(context: ChannelHandlerContext) {
        guard !self.greeted else { return }
        self.greeted = true
        var out = context.channel.allocator.buffer(capacity: 4)
        out.writeSOCKS5Greeting(SOCKS5Greeting(methods: [self.credentials == nil ? .noAuthenticationRequired : .usernamePassword]))
        context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        do {
            try self.advance(context: context)
        } catch {
            self.fail(error, context: context)
        }
    }

    private func advance(context: ChannelHandlerContext) throws {
        switch self.state {
        case .greeting:
            guard let selection = try self.buffer.readSOCKS5MethodSelection() else { return }
            if selection.method == .usernamePassword, let (user, pass) = self.credentials {
                // RFC 1929: VER=1, ULEN, UNAME, PLEN, PASSWD.
                var out = context.channel.allocator.buffer(capacity: 3 + user.utf8.count + pass.utf8.count)
                out.writeInteger(UInt8(1))
                out.writeInteger(UInt8(truncatingIfNeeded: user.utf8.count))
                out.writeString(user)
                out.writeInteger(UInt8(truncatingIfNeeded: pass.utf8.count))
                out.writeString(pass)
                context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
                self.state = .authentication
            } else if selection.method == .noAuthenticationRequired {
                self.sendRequest(context: context)
            } else {
                throw BenchError("proxy refused our methods (0x\(String(selection.method.rawValue, radix: 16)))")
            }
        case .authentication:
            guard let status = self.buffer.getInteger(at: self.buffer.readerIndex + 1, as: UInt8.self) else { return }
            self.buffer.moveReaderIndex(forwardBy: 2)
            guard status == 0 else { throw BenchError("proxy refused the credentials") }
            self.sendRequest(context: context)
        case .request:
            guard let reply = try self.buffer.readSOCKS5Reply() else { return }
            guard reply.code == .succeeded else { throw BenchError("CONNECT failed with \(reply.code)") }
            self.state = .done
            // Callbacks on `done` run inline on this loop and add the measurement handler; then any bytes
            // that came behind the reply go to it, and this handler leaves the data path.
            self.done.succeed(())
            if self.buffer.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(self.buffer))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        case .done:
            return
        }
        if self.buffer.readableBytes > 0 { try self.advance(context: context) }
    }


    private func sendRequest(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 24)
        out.writeSOCKS5Request(SOCKS5Request(command: .connect, destination: self.target))
        context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
        self.state = .request
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        self.state = .done
        self.done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if self.state != .done {
            self.state = .done
            self.done.fail(BenchError("proxy closed during the handshake"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }
}
