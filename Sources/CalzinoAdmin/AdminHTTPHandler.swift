import NIOCore
import NIOHTTP1

/// One admin connection: reads a request head (a body is ignored), answers from `AdminRoutes` and keeps the
/// connection open when the client asked for it. Reading waits while the connection cannot take more output,
/// so a client that pipelines requests and never reads the answers holds one socket buffer, not a queue of
/// answers; and a connection idle (or stuck in a request) past `idleTimeout` is closed.
final class AdminHTTPHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: AdminRoutes
    private var head: HTTPRequestHead?
    /// A `read()` held back while the channel is not writable.
    private var readPending = false
    /// A request whose answer waits until the channel takes output again.
    private var waiting: HTTPRequestHead?

    init(routes: AdminRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            guard context.channel.isWritable else {
                // The answers before this one are not taken: answer when they are (the pipeline handler
                // passes one request at a time, so at most one waits here).
                self.waiting = head
                return
            }
            self.respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let routes = self.routes
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await routes.respond(
                method: head.method,
                uri: head.uri,
                authorization: head.headers.first(name: "authorization"),
                host: head.headers.first(name: "host")
            )
        }.whenSuccess { response in
            let (handler, context) = bound.value
            handler.write(response, for: head, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            self.readPending = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let head = self.waiting {
            self.waiting = nil
            self.respond(to: head, context: context)
        }
        if context.channel.isWritable, self.readPending {
            self.readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)  // idle, or a request that does not complete: slowloris
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func write(_ response: AdminResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        for (name, value) in response.extraHeaders {
            headers.add(name: name, value: value)
        }
        let keepAlive = request.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension AdminHTTPHandler: Sendable {}
