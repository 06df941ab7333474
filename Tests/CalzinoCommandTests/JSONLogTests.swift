import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// Issue 13 (and issue 12, defect 5): `log-format: json` writes one valid JSON object per line whatever bytes
/// a client sent, with the access line's fields and a session id that the error lines about the session share.
@Suite(.timeLimit(.minutes(1)))
struct JSONLogTests {
    @Test func jsonLinesParseAndCarryTheFieldsWhateverTheClientSent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-json-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("calzino.yaml")
        try """
            log-format: json
            log-level: debug
            rules:
              - {name: no-test-names, action: deny, to-names: ["*.test"]}
            """.write(to: config, atomically: true, encoding: .utf8)
        let (server, log, port) = try await ServeProcess.start(["--config", config.path])
        defer { server.terminate() }
        let nasty = "q\"uote\\back\nfake=1 \u{1B}[2J\u{202E}\u{7F}\u{85}\u{2028}ü.test"
        let (denied, refused) = try await onThread { () -> (UInt8, UInt8) in
            let first = try RawSocket(port: port)
            defer { first.close() }
            try first.send(Wire.socks5ConnectName(nasty, port: 80))
            let denied = try Wire.readSOCKS5Reply(first).reply[1]
            // Nothing listens on port 1: the connect fails, and a debug line says so about the session.
            let second = try RawSocket(port: port)
            defer { second.close() }
            try second.send(Wire.socks5Connect(port: 1))
            return (denied, try Wire.readSOCKS5Reply(second).reply[1])
        }
        #expect(denied == 0x02 && refused == 0x05)
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        let text = try String(contentsOf: log, encoding: .utf8)
        try? FileManager.default.removeItem(at: log)
        var objects: [[String: Any]] = []
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let parsed = try #require(object, "not a JSON object: \(line)")
            objects.append(parsed)
        }
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        let sessions = objects.filter { $0["message"] as? String == "session" }
        #expect(sessions.count == 2, "\(objects)")
        let deniedLine = try #require(sessions.first { ($0["requested"] as? String)?.hasSuffix(".test:80") == true })
        #expect(deniedLine["requested"] as? String == nasty + ":80", "the name exactly as sent")
        #expect(deniedLine["rule"] as? String == "no-test-names" && deniedLine["reply"] as? String == "0x02")
        #expect(deniedLine["client"] as? String != nil && deniedLine["up"] as? Int == 0 && deniedLine["duration_ms"] is Double)
        let failedLine = try #require(sessions.first { $0["reply"] as? String == "0x05" })
        let session = try #require(failedLine["session"] as? Int)
        let errors = objects.filter { $0["message"] as? String == "connect failed" }
        #expect(errors.contains { $0["session"] as? Int == session }, "the debug line carries the same number: \(errors)")
        #expect(deniedLine["session"] as? Int != session)
    }
}
