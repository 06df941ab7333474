import CalzinoBench
import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// The benchmark's seconds-long smoke form: every scenario runs without an error, directly and through
/// calzino. Speed is never asserted here.
@Suite(.timeLimit(.minutes(2)))
struct BenchSmokeTests {
    @Test func routesParse() throws {
        #expect(try BenchRoute.parse("direct") == .direct)
        guard case .socks5(let address, let user, let pass) = try BenchRoute.parse("socks5://u:p@127.0.0.1:1080") else {
            Issue.record("not a socks5 route")
            return
        }
        #expect(address.port == 1080 && user == "u" && pass == "p")
        #expect(throws: BenchError.self) { try BenchRoute.parse("http://127.0.0.1:1") }
        #expect(throws: BenchError.self) { try BenchRoute.parse("socks5://127.0.0.1:0") }
        #expect(throws: BenchError.self) { try BenchRoute.parse("socks5://name.example:1080") }
    }

    @Test func smokeDirect() async throws {
        let result = try await ProcessRunner.run([TestPaths.calzino, "bench", "--smoke"], timeout: 90)
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(output)\n\(result.stderr)")
        #expect(output.contains("idle_verified"))
    }

    @Test func smokeThroughCalzino() async throws {
        let (server, _, port) = try await ServeProcess.start([])
        defer { server.terminate() }
        let result = try await ProcessRunner.run(
            [TestPaths.calzino, "bench", "--smoke", "--proxy", "socks5://127.0.0.1:\(port)", "--proxy-pid", "\(server.processIdentifier)"],
            timeout: 90
        )
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(output)\n\(result.stderr)")
        for key in ["throughput_1x_up_MBps", "rate_sessions_per_s", "latency_p99_us", "idle_KiB_per_tunnel"] {
            #expect(output.contains(key), "\(key) in the report")
        }
    }
}
