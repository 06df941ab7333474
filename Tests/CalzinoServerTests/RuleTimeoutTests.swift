@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// A rule's own deadlines (`timeouts:` in a rule: connect, bind, idle, udp-idle) override the global ones for
/// the sessions it allows, `idle: 0` disables the idle timeout, and a deny rule refuses a UDP association.
@Suite(.timeLimit(.minutes(1)))
struct RuleTimeoutTests {
    /// Global idle timeout 500 ms; the rule for one target says `idle: 0`. Once the other session has been
    /// closed for its silence, this one, as quiet as long, is still open and relays.
    @Test func aRuleWithIdleZeroKeepsAQuietSessionOpen() async throws {
        let quiet = try await TestTarget.start(.echo)
        let other = try await TestTarget.start(.echo)
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: forever, action: allow, to-ports: [\(quiet.port)], timeouts: {idle: 0}}\n")
        let proxy = try await TestServer.start {
            $0.timeouts.idle = .milliseconds(500)
            $0.rules = rules
        }
        let port = proxy.port, quietPort = quiet.port, otherPort = other.port
        let (kept, closed) = try await onThread { () -> (RawSocket, RawSocket) in
            (try Wire.openTunnel(proxyPort: port, targetPort: quietPort), try Wire.openTunnel(proxyPort: port, targetPort: otherPort))
        }
        let (keptEnding, echoed, closedEnding) = try await onThread { () -> (RawSocket.Ending, [UInt8], RawSocket.Ending) in
            // The other session's end first (its 500 ms idle timeout), then the kept one, quiet just as long.
            let closedEnding = closed.waitForEnd()
            let keptEnding = kept.receiveUntilEnd(waiting: false).ending
            try kept.send([5])
            return (keptEnding, try kept.receive(exactly: 1), closedEnding)
        }
        #expect(closedEnding == .fin, "the session without the rule was closed by the 500 ms idle timeout")
        #expect(keptEnding == .stillOpen && echoed == [5], "idle: 0 kept the other open, and it relays")
        kept.close()
        await proxy.stop()
        await quiet.stop()
        await other.stop()
    }

    /// Global connect timeout 10 s and bind timeout 60 s; the rule says 300 ms. CONNECT goes to a destination
    /// that never answers (reply 0x04); BIND waits for a peer that never comes (second reply 0x04).
    @Test(arguments: ["connect", "bind"])
    func aRulesConnectAndBindTimeoutsApply(command: String) async throws {
        let blackhole = try BlackholeListener()
        defer { blackhole.close() }
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: quick, action: allow, commands: [\(command)], timeouts: {\(command): 300ms}}\n")
        let proxy = try await TestServer.start {
            $0.timeouts.connect = .seconds(10)
            $0.timeouts.bind = .seconds(60)
            $0.timeouts.handshake = .seconds(30)
            $0.rules = rules
        }
        let connect = command == "connect"
        let request = connect ? Wire.socks5Connect(port: blackhole.port) : [5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 0]
        let (reply, elapsed) = try await Self.timedExchange(proxy.port, request, replyBytes: connect ? 12 : 22)
        #expect(connect ? reply[3] == 0x04 : reply[3] == 0x00 && reply[13] == 0x04, "\(reply)")
        #expect(elapsed > 0.25 && elapsed < 5, "at the rule's 300 ms, not the global deadline (10 s, 60 s): \(elapsed) s")
        await proxy.stop()
    }

    /// Global UDP idle timeout 2 min; the rule for associations says 300 ms.
    @Test func aRulesUDPIdleTimeoutApplies() async throws {
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: short-udp, action: allow, commands: [udp], timeouts: {udp-idle: 300ms}}\n")
        let proxy = try await TestServer.start {
            $0.timeouts.udpIdle = .seconds(120)
            $0.rules = rules
        }
        let proxyPort = proxy.port
        let start = Date()
        let ending = try await onThread {
            let (control, _, _) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: 9)
            return control.waitForEnd()
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(ending == .fin)
        #expect(elapsed > 0.25 && elapsed < 5, "at the rule's 300 ms: \(elapsed) s")
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("udp idle timeout") == true && lines.first?.contains("rule=short-udp") == true, "\(lines)")
        await proxy.stop()
    }

    @Test func aDenyRuleRefusesAUDPAssociation() async throws {
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: no-udp, action: deny, commands: [udp]}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let (reply, _) = try await Self.timedExchange(proxy.port, [5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0, 9], replyBytes: 12)
        #expect(reply[3] == 0x02, "not allowed by the ruleset")
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("command=udp-associate") == true && lines.first?.contains("rule=no-udp") == true, "\(lines)")
        await proxy.stop()
    }

    /// Sends `request` and reads `replyBytes` (the method selection included); returns them and the seconds taken.
    static func timedExchange(_ port: Int, _ request: [UInt8], replyBytes: Int) async throws -> ([UInt8], Double) {
        let start = Date()
        let reply = try await onThread {
            let socket = try RawSocket(port: port, timeoutSeconds: 10)
            try socket.send(request)
            return try socket.receive(exactly: replyBytes)
        }
        return (reply, Date().timeIntervalSince(start))
    }
}
