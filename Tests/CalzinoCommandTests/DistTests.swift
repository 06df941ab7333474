import Foundation
import CalzinoTestSupport
import Testing

/// Issue 13: what `dist/` ships is checked by the tools that will read it.
@Suite(.timeLimit(.minutes(1)))
struct DistTests {
    /// `systemd-analyze verify` on the unit, with ExecStart pointing at this build's binary (verify wants it
    /// to exist). The hardening the issue asks for is in the file.
    @Test(.enabled(if: ExternalTool.runnable("systemd-analyze"), "systemd-analyze (Debian's systemd) is not installed"))
    func theSystemdUnitVerifies() async throws {
        let unit = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("dist/calzino.service"), encoding: .utf8)
        for directive in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "LimitNOFILE=",
            "ExecReload=/bin/kill -HUP $MAINPID",
        ] {
            #expect(unit.contains(directive), "\(directive) is set")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-unit-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("calzino.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/calzino", with: TestPaths.calzino).write(to: copy, atomically: true, encoding: .utf8)
        let result = try await ProcessRunner.run(["systemd-analyze", "verify", copy.path], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        // Warnings about this host (no calzino user, no /etc/calzino) are not the unit's; anything about a
        // directive the unit wrote is.
        #expect(!result.stderr.contains("Unknown key") && !result.stderr.contains("Failed to parse"), "\(result.stderr)")
    }

    @Test(.enabled(if: ExternalTool.runnable("promtool"), "promtool (Debian's prometheus) is not installed"))
    func thePrometheusConfigurationAndRulesCheck() async throws {
        let directory = TestPaths.packageRoot.appendingPathComponent("dist/prometheus")
        let config = try await ProcessRunner.run(["promtool", "check", "config", directory.appendingPathComponent("prometheus.yml").path], timeout: 30)
        #expect(config.status == 0, "\(String(decoding: config.stdout, as: UTF8.self)) \(config.stderr)")
        let rules = try await ProcessRunner.run(["promtool", "check", "rules", directory.appendingPathComponent("calzino-alerts.yml").path], timeout: 30)
        #expect(rules.status == 0, "\(String(decoding: rules.stdout, as: UTF8.self)) \(rules.stderr)")
        #expect(String(decoding: rules.stdout, as: UTF8.self).contains("SUCCESS: 6 rules found"))
    }
}
