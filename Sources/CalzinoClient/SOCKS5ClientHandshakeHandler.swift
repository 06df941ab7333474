import NIOCore
import SOCKSCore

/// The client half of a SOCKS5 request, one message at a time: greeting, optional RFC 1929
/// username/password, request, reply; for BIND, a second reply. It completes `reply` with the first reply
/// and `secondReply` (BIND) with the second, then leaves the pipeline, handing on any bytes behind them.
public final class SOCKS5ClientHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State { case greeting, authentication, reply, secondReply, done }
    private var state = State.greeting
    private var buffer = ByteBuffer()
    private var greeted = false
    private let command: SOCKS5Command
    private let destination: SOCKSEndpoint
    private let credentials: (username: String, password: String)?
    private var reply: EventLoopPromise<SOCKS5Reply>?
    private var secondReply: EventLoopPromise<SOCKS5Reply>?

    public init(
        command: SOCKS5Command,
        destination: SOCKSEndpoint,
        credentials: (username: String, password: String)? = nil,
        reply: EventLoopPromise<SOCKS5Reply>,
        secondReply: EventLoopPromise<SOCKS5Reply>? = nil
    ) {
        self.command = command
        self.destination = destination
        self.credentials = credentials
        self.reply = reply
        self.secondReply = secondReply
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.sendGreeting(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.sendGreeting(context: context)
        context.fireChannelActive()
    }

    private func sendGreeting(context: ChannelHandlerContext) {
        guard !self.greeted else { return }
        self.greeted = true
        var out = context.channel.allocator.buffer(capacity: 4)
        out.writeSOCKS5Greeting(SOCKS5Greeting(methods: [self.credentials == nil ? .noAuthenticationRequired : .usernamePassword]))
        context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.state != .done else {
            context.fireChannelRead(data)
            return
        }
        var incoming = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        do {
            try self.advance(context: context)
        } catch {
            self.fail(error, context: context)
        }
    }

    private func advance(context: ChannelHandlerContext) throws {
        while true {
            switch self.state {
            case .greeting:
                guard let selection = try self.buffer.readSOCKS5MethodSelection() else { return }
                if selection.method == .usernamePassword, let credentials = self.credentials {
                    var out = context.channel.allocator.buffer(capacity: 515)
                    out.writeSOCKS5UsernamePasswordRequest(SOCKS5UsernamePasswordRequest(username: credentials.username, password: credentials.password))
                    context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
                    self.state = .authentication
                } else if selection.method == .noAuthenticationRequired {
                    self.sendRequest(context: context)
                } else {
                    throw SOCKSClientError(.noAcceptableMethod)
                }
            case .authentication:
                guard let response = try self.buffer.readSOCKS5UsernamePasswordResponse() else { return }
                guard response == .success else { throw SOCKSClientError(.authenticationFailed) }
                self.sendRequest(context: context)
            case .reply:
                guard let reply = try self.buffer.readSOCKS5Reply() else { return }
                guard reply.code == .succeeded else { throw SOCKSClientError(.requestFailed(reply.code)) }
                if self.secondReply != nil {
                    self.state = .secondReply
                    self.reply?.succeed(reply)
                    self.reply = nil
                } else {
                    self.finish(reply, context: context)
                    return
                }
            case .secondReply:
                guard let reply = try self.buffer.readSOCKS5Reply() else { return }
                guard reply.code == .succeeded else { throw SOCKSClientError(.requestFailed(reply.code)) }
                self.finish(reply, context: context)
                return
            case .done:
                return
            }
        }
    }

    private func sendRequest(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 262)
        out.writeSOCKS5Request(SOCKS5Request(command: self.command, destination: self.destination))
        context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
        self.state = .reply
    }

    /// The last reply: complete it (callbacks run inline and may add the next handler), hand on what came
    /// behind it, and leave the pipeline.
    private func finish(_ reply: SOCKS5Reply, context: ChannelHandlerContext) {
        self.state = .done
        let promise = self.secondReply ?? self.reply
        self.reply = nil
        self.secondReply = nil
        promise?.succeed(reply)
        if self.buffer.readableBytes > 0 {
            let rest = self.buffer
            self.buffer = ByteBuffer()
            context.fireChannelRead(self.wrapInboundOut(rest))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        self.state = .done
        self.reply?.fail(error)
        self.secondReply?.fail(error)
        self.reply = nil
        self.secondReply = nil
        context.close(promise: nil)
    }

    /// Leaving the pipeline with replies still owed (the channel closed under us) fails them, so that no
    /// caller waits forever.
    public func handlerRemoved(context: ChannelHandlerContext) {
        self.reply?.fail(SOCKSClientError(.closedEarly))
        self.secondReply?.fail(SOCKSClientError(.closedEarly))
        self.reply = nil
        self.secondReply = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if self.state != .done {
            self.state = .done
            self.reply?.fail(SOCKSClientError(.closedEarly))
            self.secondReply?.fail(SOCKSClientError(.closedEarly))
            self.reply = nil
            self.secondReply = nil
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }
}

@available(*, unavailable)
extension SOCKS5ClientHandshakeHandler: Sendable {}
