@testable import CalzinoServer
import CalzinoPolicy
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// A reload (what SIGHUP does with the file) gives new sessions the new limits, timeouts and ident setting,
/// leaves open sessions as they were, and warns when it would change the listeners (which stay).
@Suite(.timeLimit(.minutes(1)))
struct ReloadTests {
    @Test func newSessionsGetTheReloadedLimitsTimeoutsAndIdent() async throws {
        let target = try await TestTarget.start(.echo)
        let silentIdentd = try ClosedPort()
        let proxy = try await TestServer.start()
        let port = proxy.port, targetPort = target.port, identPort = silentIdentd.port
        let (before, identBefore) = try await onThread { () -> (RawSocket, UInt8) in
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            return (tunnel, try IdentTests.request(proxyPort: port, targetPort: targetPort, userID: "alice").code)
        }
        #expect(identBefore == 0x5A, "ident off before the reload")
        var next = proxy.server.configuration
        next.limits.maxSessions = 2
        next.ident = .required
        next.identPort = identPort
        try proxy.server.reload(next)
        // A limit set by a reload counts the sessions admitted after it (docs/configuration.md): the tunnel
        // opened before is not among them.
        let (second, third, identAfter) = try await onThread { () -> (UInt8, UInt8, UInt8) in
            let (first, _) = try Wire.connectReply(proxyPort: port, targetPort: targetPort)
            let (held, second) = try Wire.connectReply(proxyPort: port, targetPort: targetPort)
            let (extra, third) = try Wire.connectReply(proxyPort: port, targetPort: targetPort)
            [first, held, extra].forEach { $0.close() }
            return (second, third, try IdentTests.request(proxyPort: port, targetPort: targetPort, userID: "alice").code)
        }
        #expect(second == 0x00 && third == 0x01, "the third session after the reload is over max-sessions 2")
        #expect(identAfter == 0x5C, "ident required after the reload, and no identd answers")
        // The idle timeout in a reload of its own: 300 ms would also end the sessions counted above.
        next = proxy.server.configuration
        next.limits.maxSessions = nil
        next.ident = .off
        next.timeouts.idle = .milliseconds(300)
        try proxy.server.reload(next)
        let fresh = try await onThread { try Wire.openTunnel(proxyPort: port, targetPort: targetPort) }
        let (freshEnding, beforeEnding, echoed) = try await onThread { () -> (RawSocket.Ending, RawSocket.Ending, [UInt8]) in
            // Waits for the new session's end (within the 15 s receive timeout), then looks at the old one.
            let freshEnding = fresh.waitForEnd()
            let beforeEnding = before.receiveUntilEnd(waiting: false).ending
            try before.send([4])
            return (freshEnding, beforeEnding, try before.receive(exactly: 1))
        }
        #expect(freshEnding == .fin, "a session opened after the reload has the 300 ms idle timeout")
        #expect(beforeEnding == .stillOpen && echoed == [4], "the session opened before keeps its settings")
        before.close()
        await proxy.stop()
        await target.stop()
    }

    /// The listeners stay as started, so a reloaded rule must name one of them: a rule for the new file's
    /// listener could never match until a restart (a deny rule would close nothing), and is refused.
    @Test func aReloadedRuleMustNameARunningListener() throws {
        let running = try SocketAddress(ipAddress: "127.0.0.1", port: 1080)
        var started = CalzinoServerConfiguration(listeners: [running])
        started.listenerNames[running] = "lan"
        let server = CalzinoServer(configuration: started)
        var next = CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 1081)])
        next.rules = AccessRules(rules: [AccessRule(name: "close-it", action: .deny, listeners: ["office"])])
        #expect(throws: CalzinoServerError(.unknownListener, value: "", problem: "")) { try server.reload(next) }
        #expect(server.configuration.rules.rules.isEmpty, "the previous configuration stays in force")
        next.rules = AccessRules(rules: [AccessRule(name: "close-it", action: .deny, listeners: ["lan"])])
        try server.reload(next)
        #expect(server.configuration.rules.rules.map(\.name) == ["close-it"])
    }

    @Test func aReloadThatChangesTheListenersWarnsAndKeepsThem() throws {
        let (logger, log) = CapturingLogHandler.logger(label: "calzino")
        let running = try SocketAddress(ipAddress: "127.0.0.1", port: 1080)
        let server = CalzinoServer(configuration: CalzinoServerConfiguration(listeners: [running]), logger: logger)
        try server.reload(CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 1081)]))
        #expect(log.lines.contains { $0.contains("listener changes take effect on restart") }, "\(log.lines)")
        #expect(server.configuration.listeners == [running])
        let quiet = log.lines.count
        try server.reload(CalzinoServerConfiguration(listeners: [running]))
        #expect(log.lines.count == quiet, "no warning when the listeners are the same: \(log.lines)")
    }
}
