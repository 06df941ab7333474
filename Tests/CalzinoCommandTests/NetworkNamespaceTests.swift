import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// Two IP networks with no route between them, made with `ip netns` and veth pairs: a "lan" namespace with
/// the client, a "wan" namespace with the targets, and calzino in a third joined to both
/// (`Tests/Scripts/netns_e2e.sh`). Needs root and iproute2, as CI has: there, a script that cannot make the
/// namespaces fails the test; elsewhere the test is reported as skipped with the script's reason.
@Suite(.timeLimit(.minutes(2)))
struct NetworkNamespaceTests {
    @Test func connectBindAndUDPAcrossUnroutedNetworks() async throws {
        // The script's output goes to a file: the daemons it starts in the namespaces would otherwise hold
        // a pipe to this process open.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-netns-\(ProcessInfo.processInfo.processIdentifier).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let command = "bash '\(TestPaths.script("netns_e2e.sh"))' '\(TestPaths.calzino)' > '\(log.path)' 2>&1 < /dev/null"
        // system(3) waits with waitpid: no run loop, no pipes for the namespace daemons to hold open.
        let status = try await onThread { Int32(system(command)) }
        let exitCode = (status >> 8) & 0xFF
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if exitCode == 77 {
            let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
            #expect(!inCI, "CI must be able to make network namespaces: \(output)")
            if !inCI { try Test.cancel("skipped: \(output.trimmingCharacters(in: .whitespacesAndNewlines))") }
            return
        }
        #expect(exitCode == 0, "\(output)")
        for check in ["ok direct connection fails", "ok 0x03 network unreachable", "ok 0x04 host unreachable", "ok CONNECT", "ok BIND", "ok UDP"] {
            #expect(output.contains(check), "\(check) in:\n\(output)")
        }
    }
}
