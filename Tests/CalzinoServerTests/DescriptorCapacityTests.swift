import CalzinoPolicy
@testable import CalzinoServer
import CalzinoTestSupport
import NIOCore
import Testing

/// Issue 12, defect 9: the connection capacity counts the descriptors each session really holds (a UDP
/// association with both families holds four), and beyond it a new connection is refused at once, logged.
@Suite(.timeLimit(.minutes(1)))
struct DescriptorCapacityTests {
    @Test func capacityCountsWhatEachSessionHolds() async throws {
        let echo4 = try await UDPEchoTarget.start()
        let echo6 = try await UDPEchoTarget.start(host: "::1")
        let target = try await TestTarget.start(.echo)
        var configuration = CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)])
        // Ten descriptors for sessions: two associations with both families (4 each) and one CONNECT (2).
        configuration.descriptorLimit = CalzinoServer.reservedDescriptors + 10
        let (logger, log) = CapturingLogHandler.logger(label: "calzino")
        let server = CalzinoServer(configuration: configuration, logger: logger)
        let port = try #require(try await server.start().first?.port)
        let echo4Port = echo4.port, echo6Port = echo6.port, targetPort = target.port
        let (associations, echoes, tunnel, code, refusedAtOnce) = try await onThread { () -> ([RawSocket], [UInt8?], RawSocket, UInt8, Bool) in
            var controls: [RawSocket] = []
            var echoes: [UInt8?] = []
            for _ in 0..<2 {
                let client = try UDPSocket(timeoutMilliseconds: 3000)
                let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: client.port)
                controls.append(control)
                try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echo4Port) + [4], to: "127.0.0.1", port: relayPort)
                echoes.append(client.receive()?.last)
                try client.send(UDPWire.header(ipv6Loopback: echo6Port) + [6], to: "127.0.0.1", port: relayPort)
                echoes.append(client.receive()?.last)
            }
            let (tunnel, code) = try Wire.connectReply(proxyPort: port, targetPort: targetPort)
            // Nothing sent: a close with nothing unread is a FIN, so the ending says it was the server's close.
            let refused = try RawSocket(port: port, timeoutSeconds: 2)
            return (controls, echoes, tunnel, code, refused.waitForFIN())
        }
        #expect(echoes == [4, 6, 4, 6], "both associations reached both families")
        #expect(code == 0, "the tenth descriptor is still there")
        #expect(refusedAtOnce, "a connection beyond the descriptors is closed at once")
        #expect(log.lines.contains { $0.contains("descriptor capacity reached") }, "\(log.lines)")
        #expect(server.limitersForTests.descriptors.held == 10)
        // Descriptors come back when sessions end.
        associations.forEach { $0.close() }
        tunnel.close()
        var held = server.limitersForTests.descriptors.held
        for _ in 0..<100 where held > 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
            held = server.limitersForTests.descriptors.held
        }
        #expect(held == 0)
        await server.shutdown()
        await echo4.stop()
        await echo6.stop()
        await target.stop()
    }
}
