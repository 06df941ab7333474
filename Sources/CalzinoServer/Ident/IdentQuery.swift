import NIOCore
import NIOPosix

/// Asks the client's identd (RFC 1413) who owns the client's connection: connects to `identPort` on the
/// client's address, sends `<client port> , <server port>`, and reads one answer line, all within
/// `timeout`. The future never fails: no answer in time, a refused connection or a malformed answer is
/// `nil`.
enum IdentQuery {
    static func ask(
        client: SocketAddress,
        server: SocketAddress,
        identPort: Int,
        timeout: TimeAmount,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<IdentResponse?> {
        guard let clientPort = client.port, let serverPort = server.port,
            let identd = try? SocketAddress(ipAddress: client.ipAddress ?? "", port: identPort)
        else {
            return eventLoop.makeSucceededFuture(nil)
        }
        let answer = eventLoop.makePromise(of: IdentResponse?.self)
        let deadline = eventLoop.scheduleTask(in: timeout) { answer.succeed(nil) }
        answer.futureResult.whenComplete { _ in deadline.cancel() }
        var bootstrap = ClientBootstrap(group: eventLoop).connectTimeout(timeout)
        // From the address the client reached: the identd sees the query come from the server it connected to.
        if let local = try? SocketAddress(ipAddress: server.ipAddress ?? "", port: 0) {
            bootstrap = bootstrap.bind(to: local)
        }
        bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        IdentAnswerHandler(clientPort: clientPort, serverPort: serverPort, answer: answer)
                    )
                }
            }
            .connect(to: identd)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    // Whatever the outcome, the query's connection ends with it.
                    answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure:
                    answer.succeed(nil)
                }
            }
        return answer.futureResult
    }
}

/// Sends the question once connected and reads the answer line.
final class IdentAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let clientPort: Int
    private let serverPort: Int
    private let answer: EventLoopPromise<IdentResponse?>
    private var line: [UInt8] = []

    init(clientPort: Int, serverPort: Int, answer: EventLoopPromise<IdentResponse?>) {
        self.clientPort = clientPort
        self.serverPort = serverPort
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        let question = context.channel.allocator.buffer(string: "\(self.clientPort) , \(self.serverPort)\r\n")
        context.writeAndFlush(self.wrapOutboundOut(question), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.line.count <= IdentResponse.maximumLine else { return }  // answered (nil) already
        let bytes = self.unwrapInboundIn(data).readableBytesView
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            self.line.append(contentsOf: bytes[..<newline])
            self.finish()
        } else {
            self.line.append(contentsOf: bytes)
            if self.line.count > IdentResponse.maximumLine {
                self.answer.succeed(nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.answer.succeed(nil)  // a no-op when the answer came
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.answer.succeed(nil)
        context.close(promise: nil)
    }

    private func finish() {
        var text = Substring(decoding: self.line, as: UTF8.self)
        if text.last == "\r" { text = text.dropLast() }
        self.answer.succeed(IdentResponse.parse(text, clientPort: self.clientPort, serverPort: self.serverPort))
    }
}

@available(*, unavailable)
extension IdentAnswerHandler: Sendable {}
