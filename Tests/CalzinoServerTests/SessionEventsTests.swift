import CalzinoPolicy
import CalzinoServer
import NIOConcurrencyHelpers
import NIOCore
import SOCKSCore
import CalzinoTestSupport
import Testing

/// The embedder's view of ended sessions: `CalzinoServer(sessionEnded:)` gets one summary per session,
/// with the same facts as the access line.
@Suite(.timeLimit(.minutes(1)))
struct SessionEventsTests {
    @Test func aRelayedSessionAndADeniedOneAreSummarised() async throws {
        let target = try await TestTarget.start(.echo)
        let summaries = SessionSummaries()
        let proxy = try await TestServer.start(collecting: summaries) {
            $0.rules = AccessRules(rules: [AccessRule(name: "no-25", action: .deny, destinationPorts: [PortRange(parsing: "25")!])])
        }
        let port = proxy.port, targetPort = target.port
        try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: Array("ping".utf8))
            _ = try socket.receive(exactly: 4)
            socket.close()
        }
        let refused = try await onThread { try Wire.connectReply(proxyPort: port, targetPort: 25) }
        #expect(refused.1 == 0x02)
        refused.0.close()

        let all = await summaries.wait(for: 2)
        #expect(all.count == 2)
        let relayed = all.first { $0.request?.destination.port == UInt16(targetPort) }
        #expect(relayed?.request?.command == .connect && relayed?.request?.version == .socks5)
        #expect(relayed?.reply?.codeDescription == "0x00")
        #expect(relayed?.bytesUp == 4 && relayed?.bytesDown == 4)
        #expect(relayed?.connected?.port == targetPort && relayed?.failure == nil && relayed?.rule == "default")
        let denied = all.first { $0.request?.destination.port == 25 }
        #expect(denied?.reply?.codeDescription == "0x02")
        #expect(denied?.rule == "no-25" && denied?.failure == "denied by no-25")
        #expect(denied?.accessLine.contains("error=\"denied by no-25\"") == true)
        await proxy.stop()
        await target.stop()
    }
}
