import NIOConcurrencyHelpers
import NIOCore

/// A small RFC 1413 identd on loopback: reads `<port> , <port>`, records the pair, and answers with what
/// `respond` makes of it (`nil`: closes without an answer).
package final class IdentdHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private let respond: @Sendable (Int, Int) -> String?
    private let questions: NIOLockedValueBox<[(Int, Int)]>
    private var line = ""

    package init(questions: NIOLockedValueBox<[(Int, Int)]>, respond: @escaping @Sendable (Int, Int) -> String?) {
        self.questions = questions
        self.respond = respond
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.line += String(buffer: self.unwrapInboundIn(data))
        // "\r\n" is one Character in Swift: look for the line feed among the scalars.
        guard let end = self.line.unicodeScalars.firstIndex(of: "\n") else { return }
        let ports = Substring(self.line.unicodeScalars[..<end]).split(separator: ",").map { Int($0.trimmingCharacters(in: [" ", "\r"])) ?? -1 }
        guard ports.count == 2 else {
            context.close(promise: nil)
            return
        }
        self.questions.withLockedValue { $0.append((ports[0], ports[1])) }
        if let answer = self.respond(ports[0], ports[1]) {
            context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: answer + "\r\n")), promise: nil)
        }
        context.close(promise: nil)
    }
}

private extension Substring {
    func trimmingCharacters(in set: Set<Character>) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return result
    }
}

package struct TestIdentd {
    package let target: TestTarget
    package let questions: NIOLockedValueBox<[(Int, Int)]>

    package var port: Int { self.target.port }

    package static func start(respond: @escaping @Sendable (Int, Int) -> String?) async throws -> TestIdentd {
        let questions = NIOLockedValueBox<[(Int, Int)]>([])
        let target = try await TestTarget.start { IdentdHandler(questions: questions, respond: respond) }
        return TestIdentd(target: target, questions: questions)
    }

    /// An identd that names `user` as the owner of every connection.
    package static func start(naming user: String) async throws -> TestIdentd {
        try await Self.start { "\($0) , \($1) : USERID : UNIX : \(user)" }
    }

    package func stop() async {
        await self.target.stop()
    }
}
