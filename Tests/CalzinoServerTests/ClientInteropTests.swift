import CalzinoServer
import Foundation
import CalzinoTestSupport
import Testing

/// Real clients, as users run them, through the real server to local targets.
@Suite(.timeLimit(.minutes(2)))
struct ClientInteropTests {
    static let body: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 9)) }

    @Test(arguments: ["--socks4", "--socks4a", "--socks5", "--socks5-hostname"])
    func curlFetchesAFileWithEachMode(mode: String) async throws {
        let target = try await TestTarget.start(.http(body: Self.body))
        let proxy = try await TestServer.start()
        let result = try await ProcessRunner.run(
            ["curl", "-sS", "--max-time", "20", mode, "127.0.0.1:\(proxy.port)", "http://localhost:\(target.port)/file.bin"]
        )
        #expect(result.status == 0, "curl \(mode): \(result.stderr)")
        #expect(result.stdout.count == Self.body.count)
        #expect(result.stdout == Data(Self.body), "content differs")
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("command=connect") == true)
        #expect(lines.first?.contains("down=") == true)
        await proxy.stop()
        await target.stop()
    }

    @Test(arguments: ["4", "4a", "5", "5h"])
    func pysocksEcho(version: String) async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let host = version.hasSuffix("a") || version.hasSuffix("h") ? "localhost" : "127.0.0.1"
        let result = try await ProcessRunner.run(
            ["python3", TestPaths.script("echo_check.py"), "pysocks", "\(proxy.port)", version, host, "\(target.port)", "1000000"]
        )
        #expect(result.status == 0, "PySocks \(version): \(result.stderr) \(String(decoding: result.stdout, as: UTF8.self))")
        await proxy.stop()
        await target.stop()
    }

    @Test(arguments: ["socks4", "socks5", "socks5h"])
    func pythonSocksEcho(scheme: String) async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let url = "\(scheme == "socks5h" ? "socks5" : scheme)://127.0.0.1:\(proxy.port)"
        let host = scheme == "socks5h" ? "localhost" : "127.0.0.1"
        let result = try await ProcessRunner.run(
            ["python3", TestPaths.script("echo_check.py"), "python-socks", url, host, "\(target.port)", "500000"]
        )
        #expect(result.status == 0, "python-socks \(scheme): \(result.stderr)")
        await proxy.stop()
        await target.stop()
    }

    @Test(arguments: ["socks4", "socks5"])
    func ncatEchoWithHalfClose(proxyType: String) async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start()
        let input = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let result = try await ProcessRunner.run(
            ["ncat", "--proxy", "127.0.0.1:\(proxy.port)", "--proxy-type", proxyType, "127.0.0.1", "\(target.port)"],
            stdin: input,
            timeout: 30
        )
        #expect(result.status == 0, "ncat \(proxyType): \(result.stderr)")
        #expect(result.stdout == input, "ncat got \(result.stdout.count) of \(input.count) bytes back")
        await proxy.stop()
        await target.stop()
    }

    @Test(arguments: ["socks4", "socks5"])
    func proxychainsRunsCurlThroughCalzino(kind: String) async throws {
        let target = try await TestTarget.start(.http(body: Self.body))
        let proxy = try await TestServer.start()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-proxychains-\(kind)-\(proxy.port).conf")
        try "strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\n\(kind) 127.0.0.1 \(proxy.port)\n"
            .write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let result = try await ProcessRunner.run(
            ["proxychains4", "-q", "-f", config.path, "curl", "-sS", "--max-time", "20", "http://127.0.0.1:\(target.port)/file.bin"]
        )
        #expect(result.status == 0, "proxychains4 \(kind): \(result.stderr)")
        #expect(result.stdout == Data(Self.body))
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("version=\(kind == "socks4" ? "4" : "5")") == true, "the session went through calzino")
        await proxy.stop()
        await target.stop()
    }
}
