import CalzinoPolicy
import CalzinoServer
import Logging
import NIOCore
import NIOPosix

/// An in-process Calzino on 127.0.0.1 with a free port, and its access log.
package struct TestServer {
    package let server: CalzinoServer
    package let port: Int
    /// Every listener's port, in the configuration's order.
    package let ports: [Int]
    package let accessLog: CapturingLogHandler.Store

    /// - Parameter summaries: collects the server's session summaries (`sessionEnded`), if given.
    package static func start(
        collecting summaries: SessionSummaries? = nil,
        _ configure: (inout CalzinoServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        var configuration = CalzinoServerConfiguration(
            listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)],
            timeouts: Timeouts(handshake: .seconds(5), connect: .seconds(5), drain: .seconds(2))
        )
        configure(&configuration)
        let (accessLogger, store) = CapturingLogHandler.logger(label: "calzino.access")
        var logger = Logger(label: "calzino")
        logger.logLevel = .warning
        var sessionEnded: (@Sendable (CalzinoSessionSummary) -> Void)?
        if let summaries {
            sessionEnded = { summaries.add($0) }
        }
        let server = CalzinoServer(configuration: configuration, logger: logger, accessLogger: accessLogger, sessionEnded: sessionEnded)
        let addresses = try await server.start()
        return TestServer(server: server, port: addresses.first?.port ?? 0, ports: addresses.compactMap(\.port), accessLog: store)
    }

    package func stop() async {
        await self.server.shutdown()
    }

    /// Waits (bounded) until the access log holds `count` lines, and returns them.
    package func accessLines(atLeast count: Int, within seconds: Double = 5) async -> [String] {
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
        while self.accessLog.lines.count < count && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return self.accessLog.lines
    }
}

/// SOCKS request bytes for raw-socket tests.
package enum Wire {
    package static func socks5Connect(port: Int, host: [UInt8] = [127, 0, 0, 1]) -> [UInt8] {
        [5, 1, 0, 5, 1, 0, 1] + host + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    package static func socks5ConnectName(_ name: String, port: Int) -> [UInt8] {
        [5, 1, 0, 5, 1, 0, 3, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    package static func socks4Connect(port: Int, host: [UInt8] = [127, 0, 0, 1]) -> [UInt8] {
        [4, 1, UInt8(port >> 8), UInt8(port & 0xFF)] + host + [0]
    }

    /// Connects to the proxy on `proxyPort` and opens a SOCKS5 CONNECT tunnel to 127.0.0.1:`targetPort`,
    /// sending `payload` in the same write as the request.
    package static func openTunnel(proxyPort: Int, targetPort: Int, payload: [UInt8] = []) throws -> RawSocket {
        let socket = try RawSocket(port: proxyPort)
        try socket.send(Self.socks5Connect(port: targetPort) + payload)
        let (method, reply) = try Self.readSOCKS5Reply(socket)
        guard method == 0, reply[1] == 0 else {
            throw RawSocket.Failure(description: "tunnel refused: method \(method), reply \(reply[1])")
        }
        return socket
    }

    /// Reads the method selection and the reply of a SOCKS5 CONNECT with an IPv4 bound address.
    package static func readSOCKS5Reply(_ socket: RawSocket) throws -> (method: UInt8, reply: [UInt8]) {
        let selection = try socket.receive(exactly: 2)
        let reply = try socket.receive(exactly: 10)
        return (selection[1], reply)
    }

    /// A SOCKS5 CONNECT with RFC 1929 credentials; returns the socket and the reply code.
    package static func authenticatedConnect(proxyPort: Int, targetPort: Int, user: String, password: String) throws -> (RawSocket, UInt8) {
        let socket = try RawSocket(port: proxyPort)
        try socket.send([5, 1, 2])
        _ = try socket.receive(exactly: 2)
        try socket.send([1, UInt8(user.utf8.count)] + Array(user.utf8) + [UInt8(password.utf8.count)] + Array(password.utf8))
        let status = try socket.receive(exactly: 2)
        guard status[1] == 0 else { return (socket, 0xFF) }
        // Wire.socks5Connect carries its own greeting: skip it, the method is chosen already.
        try socket.send(Array(Wire.socks5Connect(port: targetPort).dropFirst(3)))
        return (socket, try socket.receive(exactly: 10)[1])
    }

    /// A SOCKS5 CONNECT; returns the socket and the reply code.
    package static func connectReply(proxyPort: Int, targetPort: Int) throws -> (RawSocket, UInt8) {
        let socket = try RawSocket(port: proxyPort)
        try socket.send(Wire.socks5Connect(port: targetPort))
        return (socket, try Wire.readSOCKS5Reply(socket).reply[1])
    }
}
