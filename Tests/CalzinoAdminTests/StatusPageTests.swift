import CalzinoAdmin
import CalzinoTestSupport
import Foundation
import NIOCore
import Testing

/// Issue 13: the status page in a real browser. Headless Chromium loads it while a transfer is open and the
/// test reads what the page shows (`--dump-dom`, after its script has asked the server) against what it did.
@Suite(.timeLimit(.minutes(2)))
struct StatusPageTests {
    @Test(.enabled(if: ExternalTool.runnable("chromium"), "chromium is not installed"))
    func chromiumShowsWhatTheServerIsDoing() async throws {
        let target = try await TestTarget.start(.echo)
        let harness = try await AdminHarness.start()
        let port = harness.socksPort, targetPort = target.port
        // Two sessions that ended, and one open with 5,000 bytes each way.
        let open = try await onThread { () -> RawSocket in
            for _ in 0..<2 {
                let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: [1])
                _ = try tunnel.receive(exactly: 1)
                tunnel.close()
            }
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: [UInt8](repeating: 9, count: 5000))
            _ = try tunnel.receive(exactly: 5000)
            return tunnel
        }
        for _ in 0..<200 where harness.server.openSessions > 1 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-chromium-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: profile) }
        let result = try await ProcessRunner.run([
            ExternalTool.path("chromium") ?? "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=5000", "--dump-dom", "http://127.0.0.1:\(harness.adminPort)/",
        ], timeout: 90)
        let dom = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(dom.contains(#"<b id="open">1</b>"#), "one open session shown: \(dom.prefix(3000))")
        #expect(dom.contains(#"<b id="served">2</b>"#), "two sessions served")
        #expect(dom.contains("127.0.0.1:\(targetPort)"), "the open session's destination is listed")
        #expect(dom.contains("4.9 KiB"), "its 5,000 bytes each way")
        #expect(dom.contains("updated "), "the script reached the server")
        open.close()
        await harness.stop()
        await target.stop()
    }
}
