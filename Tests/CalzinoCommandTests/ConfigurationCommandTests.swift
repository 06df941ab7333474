import Foundation
import Glibc
@testable import CalzinoServer
import CalzinoTestSupport
import Testing

/// `calzino check-config` and `calzino serve --config` with a SIGHUP reload, as an operator runs them.
@Suite(.timeLimit(.minutes(2)))
struct ConfigurationCommandTests {
    static func temporaryFile(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func waitForLog(_ log: URL, containing text: String, occurrences: Int = 1) async -> Bool {
        for _ in 0..<1000 {
            let content = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if content.components(separatedBy: text).count - 1 >= occurrences { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return false
    }

    /// A SOCKS5 CONNECT's reply code; the connection is closed again.
    static func connectReply(proxyPort: Int, targetPort: Int) throws -> UInt8 {
        let (socket, code) = try Wire.connectReply(proxyPort: proxyPort, targetPort: targetPort)
        socket.close()
        return code
    }

    @Test func checkConfigPrintsTheEffectiveConfiguration() async throws {
        let good = try Self.temporaryFile("timeouts: {connect: 3s}\nrules:\n  - {name: web, action: allow, to-ports: [443]}\ndefault-action: deny\n")
        let result = try await ProcessRunner.run([TestPaths.calzino, "check-config", good.path, "--idle-timeout", "5m"])
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0)
        #expect(output.contains("valid"))
        #expect(output.contains("connect: 3s") && output.contains("idle: 5m"), "file and flag both show: \(output)")
        #expect(output.contains("handshake: 10s"), "defaults show")
        #expect(output.contains("name: \"web\"") && output.contains("default-action: deny"))

        let bad = try Self.temporaryFile("timeouts:\n  connect: 3s\nrules:\n  - action: allow\n    to-ports: [http]\n")
        let failed = try await ProcessRunner.run([TestPaths.calzino, "check-config", bad.path])
        #expect(failed.status == 64)
        #expect(failed.stderr.contains("\(bad.path):5: rules[1].to-ports[1]: 'http' is not a port"), "\(failed.stderr)")
        try? FileManager.default.removeItem(at: good)
        try? FileManager.default.removeItem(at: bad)
    }

    /// A flag is bounded as its key in the file is: `--max-sessions` takes what `limits.max-sessions` takes.
    @Test(arguments: [("--max-sessions", "1000001"), ("--max-sessions", "0"), ("--max-connections", "1000001"), ("--threads", "257")])
    func flagsHaveTheBoundsOfTheirKeys(flag: String, value: String) async throws {
        let file = try Self.temporaryFile("threads: 2\n")
        let result = try await ProcessRunner.run([TestPaths.calzino, "check-config", file.path, flag, value])
        #expect(result.status == 64, "\(flag) \(value) accepted")
        #expect(result.stderr.contains("\(flag): must be from 1 to"), "\(result.stderr)")
        try? FileManager.default.removeItem(at: file)
    }

    /// SIGHUP: new sessions get the new rules, an open session goes on, a broken file is refused and the
    /// rules in force stay.
    @Test func sighupReloadsTheRules() async throws {
        let first = try await TestTarget.start(.echo)
        let second = try await TestTarget.start(.echo)
        let firstPort = first.port, secondPort = second.port
        let config = try Self.temporaryFile("rules:\n  - {name: no-second, action: deny, to-ports: [\(secondPort)]}\n")
        let (server, log, port) = try await ServeProcess.start(["--config", config.path])
        defer { server.terminate() }
        let tunnel = try await onThread { try Wire.openTunnel(proxyPort: port, targetPort: firstPort) }
        #expect(try await onThread { try Self.connectReply(proxyPort: port, targetPort: secondPort) } == 0x02)

        // The new file brings users too (a listener on loopback may have them).
        let hash = try TestHashes.quick("pw").encoded
        try "users:\n  alice: \"\(hash)\"\nrules:\n  - {name: no-first, action: deny, to-ports: [\(firstPort)]}\n".write(to: config, atomically: true, encoding: .utf8)
        kill(server.processIdentifier, SIGHUP)
        #expect(await Self.waitForLog(log, containing: "configuration reloaded"))
        let (anonymous, toFirst, toSecond) = try await onThread { () -> (UInt8, UInt8, UInt8) in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send([5, 1, 0])
            let method = try socket.receive(exactly: 2)[1]
            let first = try Wire.authenticatedConnect(proxyPort: port, targetPort: firstPort, user: "alice", password: "pw")
            let second = try Wire.authenticatedConnect(proxyPort: port, targetPort: secondPort, user: "alice", password: "pw")
            first.0.close()
            second.0.close()
            return (method, first.1, second.1)
        }
        #expect(anonymous == 0xFF, "new sessions need the new users")
        #expect(toFirst == 0x02, "new sessions get the new rules")
        #expect(toSecond == 0x00)
        let echoed = try await onThread { () -> [UInt8] in
            try tunnel.send([4, 5, 6])
            return try tunnel.receive(exactly: 3)
        }
        #expect(echoed == [4, 5, 6], "the session opened before the reload goes on")

        try "rules:\n  - {name: broken, action: allow, to-ports: [99999]}\n".write(to: config, atomically: true, encoding: .utf8)
        kill(server.processIdentifier, SIGHUP)
        #expect(await Self.waitForLog(log, containing: "configuration not reloaded"))
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("\(config.path):2: rules[1].to-ports[1]: '99999' is not a port"), "\(text)")
        let stillDenied = try await onThread {
            let (socket, code) = try Wire.authenticatedConnect(proxyPort: port, targetPort: firstPort, user: "alice", password: "pw")
            socket.close()
            return code
        }
        #expect(stillDenied == 0x02, "the previous users and rules stay")
        #expect(server.isRunning)
        tunnel.close()
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        await first.stop()
        await second.stop()
        try? FileManager.default.removeItem(at: config)
        try? FileManager.default.removeItem(at: log)
    }
}
