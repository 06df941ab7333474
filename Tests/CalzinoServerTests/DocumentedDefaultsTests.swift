@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// Documented behaviour with no test before issue 14: `timeouts.ident` bounds the ident query, and an
/// optional listener that cannot be bound is skipped with a warning while a required one fails the start.
@Suite(.timeLimit(.minutes(1)))
struct DocumentedDefaultsTests {
    /// An identd that accepts and never answers: with `timeouts.ident` at 300 ms (the handshake's at 5 s), a
    /// required ident check answers 0x5C (identd unreachable) at once. (The handshake deadline would answer 0x5B.)
    @Test func theIdentTimeoutBoundsASilentIdentd() async throws {
        let silent = try await TargetRecorder().start(greeting: [], shutOutput: false)
        let target = try await TestTarget.start(.echo)
        let silentPort = silent.port
        let proxy = try await TestServer.start {
            $0.ident = .required
            $0.identPort = silentPort
            $0.timeouts.ident = .milliseconds(300)
            $0.timeouts.handshake = .seconds(20)
        }
        let port = proxy.port, targetPort = target.port
        let start = Date()
        let code = try await onThread { try IdentTests.request(proxyPort: port, targetPort: targetPort, userID: "alice").code }
        let elapsed = Date().timeIntervalSince(start)
        #expect(code == 0x5C)
        #expect(elapsed > 0.25 && elapsed < 5, "at the 300 ms ident timeout, not the 20 s handshake deadline: \(elapsed) s")
        await proxy.stop()
        await target.stop()
        await silent.stop()
    }

    /// 192.0.2.1 (TEST-NET-1) is not an address of this host, so binding it fails (EADDRNOTAVAIL) without a
    /// packet sent.
    @Test func anOptionalListenerThatCannotBindIsSkippedWithAWarning() async throws {
        var configuration = CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)])
        // An address that is not loopback: allowed as a listener only as an (explicit) open proxy.
        configuration.allowOpenProxy = true
        configuration.optionalListeners = [try SocketAddress(ipAddress: "192.0.2.1", port: 0), try SocketAddress(ipAddress: "::1", port: 0)]
        let (logger, log) = CapturingLogHandler.logger(label: "calzino")
        let server = CalzinoServer(configuration: configuration, logger: logger)
        let bound = try await server.start()
        #expect(bound.count == 2, "127.0.0.1 and ::1 bound, 192.0.2.1 skipped: \(bound)")
        #expect(log.lines.contains { $0.contains("optional listener not started") }, "\(log.lines)")
        if let ipv6 = bound.first(where: { $0.protocol == .inet6 })?.port {
            let reply = try await onThread { () -> [UInt8] in
                let socket = try RawSocket(port: ipv6, ipv6: true)
                try socket.send([5, 1, 0])
                return try socket.receive(exactly: 2)
            }
            #expect(reply == [5, 0], "the optional listener that could bind serves")
        }
        await server.shutdown()

        var required = CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0), try SocketAddress(ipAddress: "192.0.2.1", port: 0)])
        required.allowOpenProxy = true
        let failing = CalzinoServer(configuration: required, logger: logger)
        await #expect(throws: (any Error).self, "a required listener that cannot bind fails the start") { _ = try await failing.start() }
    }
}
