import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// Issue 13: `calzino serve --admin` as an operator runs it, with a flag and with the file's token.
@Suite(.timeLimit(.minutes(1)))
struct AdminCommandTests {
    /// The admin port the binary logged (`admin listener started admin=127.0.0.1:PORT`).
    static func adminPort(log: URL) async throws -> Int {
        for _ in 0..<500 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "admin=127.0.0.1:"), let port = Int(text[range.upperBound...].prefix { $0.isNumber }) {
                return port
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw RawSocket.Failure(description: "no admin listener in the log")
    }

    /// A raw GET; returns the status line's code and the body.
    static func get(port: Int, path: String, token: String? = nil) throws -> (Int, String) {
        let socket = try RawSocket(port: port, timeoutSeconds: 10)
        defer { socket.close() }
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        try socket.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(auth)\r\n".utf8))
        let text = String(decoding: try socket.receiveUntilEOF(), as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    @Test func adminFlagServesMetricsAndHealth() async throws {
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start(["--admin", "127.0.0.1:0"])
        defer { server.terminate() }
        let adminPort = try await Self.adminPort(log: log)
        let targetPort = target.port
        let (health, metrics) = try await onThread { () -> (Int, String) in
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: [1, 2, 3])
            _ = try tunnel.receive(exactly: 3)
            tunnel.close()
            // The session is counted when the server has seen it end.
            var metrics = ""
            for _ in 0..<100 where !metrics.contains("reply=\"0x00\"} 1") {
                usleep(50_000)
                metrics = try Self.get(port: adminPort, path: "/metrics").1
            }
            return (try Self.get(port: adminPort, path: "/healthz").0, metrics)
        }
        #expect(health == 200)
        #expect(metrics.contains(#"calzino_sessions_total{version="5",command="connect",reply="0x00"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"calzino_bytes_total{direction="up"} 3"#))
        kill(server.processIdentifier, SIGTERM)
        #expect(await ServeProcess.waitForExit(server, seconds: 10))
        try? FileManager.default.removeItem(at: log)
        await target.stop()
    }

    @Test func theFileGivesTheTokenAndAnOpenAdminNeedsOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-admin-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "s3cret\n".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("calzino.yaml")
        try "admin: {address: \"127.0.0.1:0\", token-file: token}\n".write(to: config, atomically: true, encoding: .utf8)
        let (server, log, _) = try await ServeProcess.start(["--config", config.path])
        defer { server.terminate() }
        let adminPort = try await Self.adminPort(log: log)
        let (without, with) = try await onThread {
            (try Self.get(port: adminPort, path: "/metrics").0, try Self.get(port: adminPort, path: "/metrics", token: "s3cret").0)
        }
        #expect(without == 401 && with == 200)
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        try? FileManager.default.removeItem(at: log)
        // Off loopback without a token: refused before anything starts, naming the problem.
        let open = try await ProcessRunner.run([TestPaths.calzino, "serve", "--admin", "0.0.0.0:0"], timeout: 20)
        #expect(open.status != 0)
        #expect(open.stderr.contains("needs a bearer token"), "\(open.stderr)")
    }
}

extension AdminCommandTests {
    /// Review finding: under SIGTERM the admin listener outlives the drain, so /readyz says 503 meanwhile.
    @Test func readinessIsServiceUnavailableWhileTheBinaryDrains() async throws {
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start(["--admin", "127.0.0.1:0", "--drain-timeout", "5s"])
        defer { server.terminate() }
        let adminPort = try await Self.adminPort(log: log)
        let targetPort = target.port
        let tunnel = try await onThread { try Wire.openTunnel(proxyPort: port, targetPort: targetPort) }
        #expect(try await onThread { try Self.get(port: adminPort, path: "/readyz").0 } == 200)
        kill(server.processIdentifier, SIGTERM)
        var ready = 0
        for _ in 0..<100 where ready != 503 {
            try await Task.sleep(nanoseconds: 20_000_000)
            ready = (try? await onThread { try Self.get(port: adminPort, path: "/readyz").0 }) ?? 0
        }
        #expect(ready == 503, "not ready while draining")
        tunnel.close()
        #expect(await ServeProcess.waitForExit(server, seconds: 10))
        try? FileManager.default.removeItem(at: log)
        await target.stop()
    }
}

extension AdminCommandTests {
    /// Review finding: a client that pipelines page requests and never reads the answers finds itself not
    /// read from; the server does not queue answers (each page is 7 KB for an 18-byte request).
    @Test func aClientThatDoesNotReadIsNotReadFrom() async throws {
        let (server, log, _) = try await ServeProcess.start(["--admin", "127.0.0.1:0"])
        defer { server.terminate() }
        let adminPort = try await Self.adminPort(log: log)
        let probe = ProcessProbe(pid: server.processIdentifier)
        _ = try await onThread { try Self.get(port: adminPort, path: "/") }
        let before = probe.residentKiB
        let pushed = try await onThread { () -> Int in
            let socket = try RawSocket(port: adminPort, receiveBuffer: 4096, timeoutSeconds: 1)
            defer { socket.close() }
            let requests = [UInt8](String(repeating: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", count: 1000).utf8)
            var pushed = 0
            while pushed < 20_000, (try? socket.send(requests)) != nil {
                pushed += 1000
            }
            // The server works through what it read meanwhile; the socket stays open and unread.
            usleep(1_500_000)
            return pushed
        }
        let grown = probe.residentKiB - before
        print("reliability: admin: \(pushed) pipelined page requests pushed without reading: RSS +\(grown) KiB")
        #expect(grown < 16 << 10, "the server held \(grown) KiB for a client that does not read")
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        try? FileManager.default.removeItem(at: log)
    }
}
