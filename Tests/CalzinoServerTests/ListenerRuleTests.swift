import CalzinoConfiguration
@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// `listeners:` in rules (docs/configuration.md): a rule names a listener by its name or its address, and
/// applies only to sessions that came through it; a name no listener has is refused.
@Suite(.timeLimit(.minutes(1)))
struct ListenerRuleTests {
    static let file = """
        listen:
          - {address: "127.0.0.2:0", name: lan}
          - "127.0.0.1:0"
        rules:
          - {name: lan-closed, action: deny, listeners: ["127.0.0.2:0"]}
        """

    /// The rule names the `lan` listener by its address: it denies sessions through that listener only.
    @Test func aRuleAppliesToTheListenerItNamesByAddress() async throws {
        let configuration = try ServeOptions.parse(Self.file, file: "f.yaml").makeConfiguration()
        #expect(configuration.rules.rules.first?.listeners == ["lan"], "the address of a named listener is its name")
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start {
            $0.listeners = configuration.listeners
            $0.listenerNames = configuration.listenerNames
            $0.rules = configuration.rules
        }
        try #require(proxy.ports.count == 2)
        let lanPort = proxy.ports[0], loopbackPort = proxy.ports[1], targetPort = target.port
        let (throughLAN, throughLoopback) = try await onThread { () -> (UInt8, UInt8) in
            let lan = try RawSocket(port: lanPort, host: "127.0.0.2")
            try lan.send(Wire.socks5Connect(port: targetPort))
            let lanReply = try Wire.readSOCKS5Reply(lan).reply[1]
            let (_, loopbackReply) = try Wire.connectReply(proxyPort: loopbackPort, targetPort: targetPort)
            return (lanReply, loopbackReply)
        }
        #expect(throughLAN == 0x02, "denied by lan-closed through lan")
        #expect(throughLoopback == 0x00, "the rule does not apply to the other listener")
        let lines = await proxy.accessLines(atLeast: 2)
        #expect(lines.contains { $0.contains("reply=0x02") && $0.contains("rule=lan-closed") }, "\(lines)")
        await proxy.stop()
        await target.stop()
    }

    /// Without `listen` in the file the defaults are in force, and a rule naming another listener could never
    /// match (a deny rule would then close nothing): refused, naming the rule's line.
    @Test func aRuleNamingNoListenerIsRefused() throws {
        let text = "rules:\n  - {name: ok, action: allow, listeners: [\"127.0.0.1:1080\"]}\n  - {name: lan-closed, action: deny, listeners: [lan]}\n"
        let options = try ServeOptions.parse(text, file: "f.yaml")
        let error = try #require(throws: ConfigurationFileError.self) { try options.makeConfiguration() }
        #expect(error.file == "f.yaml" && error.line == 3)
        #expect(error.problem.contains("rule 'lan-closed': no listener is named or listens on 'lan'"), "\(error)")
    }
}
