import CalzinoPolicy
@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// The bandwidth limits the rest of LimitsTests does not cover: the global `bandwidth-per-session` over TCP,
/// and a rule's `bandwidth-per-user`, shared by that user's sessions and by nobody else. Part of the
/// `.serialized` LimitsTests suite, so that no other timed test runs beside them (and `scripts/test.sh` runs
/// that suite apart from the others).
extension LimitsTests {
    @Test func theGlobalSessionBandwidthHoldsTheRate() async throws {
        let count = 3 << 20
        let target = try await TestTarget.start(.source(count: count))
        let proxy = try await TestServer.start { $0.limits.bandwidthPerSession = Bandwidth(down: 1 << 20) }
        let port = proxy.port, targetPort = target.port
        let seconds = try await onThread { try LimitsTests.timedDownload(proxyPort: port, targetPort: targetPort, count: count) }
        Self.expectOneMebibytePerSecond(count, over: seconds, "1 MiB/s set")
        await proxy.stop()
        await target.stop()
    }

    /// alice's two sessions share the rule's 1 MiB/s; bob, whom the rule does not name, is not held to it.
    @Test func aRulesUserBandwidthIsSharedByThatUsersSessions() async throws {
        let count = 3 << 19  // 1.5 MiB each
        let target = try await TestTarget.start(.source(count: count))
        let hash = try TestHashes.quick("pw")
        let rules = try RulesIntegrationTests.rules("""
            rules:
              - {name: alice-rate, action: allow, users: [alice], bandwidth-per-user: {down: 1MiB}}
            """)
        let proxy = try await TestServer.start {
            $0.users = UserStore(users: ["alice": hash, "bob": hash])
            $0.rules = rules
        }
        let port = proxy.port, targetPort = target.port
        let (_, _, span) = try await Self.twoDownloadsAtOnce(proxyPort: port, targetPort: targetPort, count: count, user: "alice")
        Self.expectOneMebibytePerSecond(2 * count, over: span, "1 MiB/s shared by alice's sessions")
        let bob = try await onThread { try LimitsTests.timedDownload(proxyPort: port, targetPort: targetPort, count: count, user: "bob") }
        #expect(bob < 0.75, "bob is not held to alice's rate: 1.5 MiB took \(bob) s (at 1 MiB/s: 1.5 s)")
        await proxy.stop()
        await target.stop()
    }
}
