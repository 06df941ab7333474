import Foundation
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import CalzinoTestSupport
import Testing

extension HostileClientTests {
    /// Every field at its limits, every truncation, garbage after the handshake, a second request inside a
    /// tunnel, and a stranger flooding a UDP association: answered by the protocol, never a crash.
    @Test func protocolAbuse() async throws {
        let target = try await TestTarget.start(.echo)
        let echo = try await UDPEchoTarget.start()
        let (server, log, port) = try await ServeProcess.start(["--connect-timeout", "2s"])
        let targetPort = target.port, echoPort = echo.port
        let connect = Wire.socks5Connect(port: targetPort)
        // Everything is measured on a thread of its own and checked here, on the test's task.
        let abuse = try await onThread { () -> AbuseAnswers in
            var answers = AbuseAnswers()
            // A 255-byte name (no such name: 0x04), NMETHODS 255 (all offered: "no authentication" chosen).
            let longName = try RawSocket(port: port)
            try longName.send([5, 255] + (0...254).map { UInt8($0) } + [5, 1, 0, 3, 255] + Array(repeating: UInt8(ascii: "a"), count: 255) + [0, 80])
            answers.longName = try longName.receive(exactly: 2 + 10)
            // Every truncation of a CONNECT, then EOF: no success reply, and the server ends the connection.
            for length in 0..<connect.count {
                let socket = try RawSocket(port: port, timeoutSeconds: 5)
                try socket.send(Array(connect.prefix(length)))
                socket.shutdownWrite()
                answers.truncations.append(socket.receiveUntilEnd())
                socket.close()
            }
            // Random bytes after a valid handshake, and a second SOCKS request inside the tunnel: data.
            var generator = SystemRandomNumberGenerator()
            let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: garbage + connect)
            answers.tunnelSent = garbage + connect
            answers.tunnelEchoed = try tunnel.receive(exactly: garbage.count + connect.count)
            tunnel.close()
            // A stranger floods the UDP association; the client's own datagrams still come back.
            let client = try UDPSocket(timeoutMilliseconds: 3000)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: client.port)
            try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [1], to: "127.0.0.1", port: relayPort)
            answers.firstDatagram = client.receive()?.last
            let stranger = try UDPSocket(localHost: "127.0.0.2")
            for _ in 0..<5000 {
                try? stranger.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [6, 6, 6], to: "127.0.0.1", port: relayPort)
            }
            // The flood may fill the relay socket's kernel buffer, which drops datagrams before the server
            // sees them (UDP): like any UDP client, this one sends again when no answer comes.
            for _ in 0..<10 where !answers.servedDuringFlood {
                try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [2], to: "127.0.0.1", port: relayPort)
                answers.servedDuringFlood = client.receive(timeoutMilliseconds: 500)?.last == 2
            }
            answers.strangerGotAnswer = stranger.receive(timeoutMilliseconds: 300) != nil
            control.close()
            return answers
        }
        #expect(abuse.longName[0...1] == [5, 0] && abuse.longName[3] == 0x04, "\(abuse.longName)")
        #expect(abuse.truncations.count == connect.count)
        for (length, answer) in abuse.truncations.enumerated() {
            #expect(answer.bytes.count <= 2, "prefix \(length): \(answer.bytes)")
            #expect(answer.ending == .fin, "prefix \(length): the connection ended with \(answer.ending)")
        }
        #expect(abuse.tunnelEchoed == abuse.tunnelSent)
        #expect(abuse.firstDatagram == 1)
        #expect(abuse.servedDuringFlood, "the client is still served")
        #expect(!abuse.strangerGotAnswer, "the stranger gets nothing")
        // Field limits of RFC 1929: 255-byte name and password, and empty ones.
        let hash = try TestHashes.quick("pw").encoded
        let users = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-users-\(UInt32.random(in: 0...UInt32.max))")
        try "alice:\(hash)\n".write(to: users, atomically: true, encoding: .utf8)
        let (authServer, authLog, authPort) = try await ServeProcess.start(["--users", users.path])
        let fieldLimits = [(255, 255), (0, 0), (1, 0), (0, 1)]
        let statuses = try await onThread {
            try fieldLimits.map { name, password in
                let socket = try RawSocket(port: authPort)
                defer { socket.close() }
                try socket.send([5, 1, 2])
                _ = try socket.receive(exactly: 2)
                try socket.send([1, UInt8(name)] + Array(repeating: UInt8(ascii: "u"), count: name) + [UInt8(password)] + Array(repeating: UInt8(ascii: "p"), count: password))
                return try socket.receive(exactly: 2)
            }
        }
        for ((name, password), status) in zip(fieldLimits, statuses) {
            #expect(status == [1, 1], "\(name)-byte name, \(password)-byte password: \(status)")
        }
        #expect(server.isRunning && authServer.isRunning)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let foreign = text.components(separatedBy: "foreign:").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        #expect(foreign > 100, "the flood is dropped and counted: foreign:\(foreign)")
        print("reliability: protocol abuse: all answered; UDP flood of 5,000 from a stranger, \(foreign) reached the server and were dropped")
        #expect(!text.contains("Fatal error"))
        await ServeProcess.stop(server, log: log)
        await ServeProcess.stop(authServer, log: authLog)
        try? FileManager.default.removeItem(at: users)
        await target.stop()
        await echo.stop()
    }
}

/// What `protocolAbuse` saw, gathered on its socket thread and checked on the test's task.
struct AbuseAnswers: Sendable {
    var longName: [UInt8] = []
    var truncations: [(bytes: [UInt8], ending: RawSocket.Ending)] = []
    var tunnelSent: [UInt8] = []
    var tunnelEchoed: [UInt8] = []
    var firstDatagram: UInt8?
    var servedDuringFlood = false
    var strangerGotAnswer = false
}

/// Sends `count` bytes, then resets the connection (SO_LINGER 0 and close).
final class ResetAfterSending: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let count: Int

    init(count: Int) {
        self.count = count
    }

    func channelActive(context: ChannelHandlerContext) {
        // A moment first, so that the proxy's connect completes and the relay is running when the reset comes.
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(30)) {
            self.sendThenReset(context: context)
        }
    }

    private func sendThenReset(context: ChannelHandlerContext) {
        let bytes = context.channel.allocator.buffer(repeating: 0x42, count: self.count)
        context.writeAndFlush(self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            guard let provider = context.channel as? any SocketOptionProvider else {
                context.close(promise: nil)
                return
            }
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

/// Closes every connection as soon as it is accepted.
final class CloseAtOnce: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
