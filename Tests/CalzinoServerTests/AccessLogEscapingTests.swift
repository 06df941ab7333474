import CalzinoPolicy
@testable import CalzinoServer
import CalzinoTestSupport
import NIOCore
import Testing

/// Issue 12, defect 5 (access-log injection): what a client sends cannot forge a line or a field, nor
/// reach the terminal as a control sequence.
@Suite(.timeLimit(.minutes(1)))
struct AccessLogEscapingTests {
    @Test(arguments: [
        ("plain.example.com", "plain.example.com", "plain.example.com"),
        ("a b", "a\\x20b", "a b"),
        ("x\nclient=1.2.3.4", "x\\nclient=1.2.3.4", "x\\nclient=1.2.3.4"),
        ("\u{1B}[2J\r\t", "\\x1B[2J\\r\\t", "\\x1B[2J\\r\\t"),
        ("q\"uote\\", "q\\\"uote\\\\", "q\\\"uote\\\\"),
        ("\u{7F}\u{85}\u{202E}\u{2028}", "\\x7F\\u{0085}\\u{202E}\\u{2028}", "\\x7F\\u{0085}\\u{202E}\\u{2028}"),
        ("a\u{A0}b\u{3000}c", "a\\u{00A0}b\\u{3000}c", "a\u{A0}b\u{3000}c"),
        ("grüße-日本", "grüße-日本", "grüße-日本"),
    ])
    func escapes(text: String, bare: String, quoted: String) {
        #expect(AccessLogText.bare(text) == bare)
        #expect(AccessLogText.quoted(text) == quoted)
    }

    /// A SOCKS4 USERID and a SOCKS5 name full of line breaks, spaces and escape sequences, through the real
    /// server: every access line is one line of printable text, and the fields read back as sent.
    @Test func clientTextIsEscapedInTheAccessLog() async throws {
        let target = try await TestTarget.start(.echo)
        // identd names someone else, so the refusal's error text quotes the request's USERID.
        let identd = try await TestIdentd.start(naming: "alice")
        let identPort = identd.port
        let proxy = try await TestServer.start {
            $0.rules = AccessRules(rules: [AccessRule(name: "no-81", action: .deny, destinationPorts: [PortRange(parsing: "81")!])])
            $0.ident = .required
            $0.identPort = identPort
        }
        let port = proxy.port, targetPort = target.port
        let userID = Array("mallory\nclient=10.0.0.1 user=root\u{1B}[2J".utf8)
        let name = Array("evil.test\r\nclient=forged rule=allow-all\u{1B}]0;pwned\u{07}".utf8)
        let (socks4Reply, socks5Reply) = try await onThread {
            let socks4 = try RawSocket(port: port)
            try socks4.send([4, 1, UInt8(targetPort >> 8), UInt8(targetPort & 0xFF), 127, 0, 0, 1] + userID + [0])
            let socks4Reply = try socks4.receive(exactly: 8)[1]
            socks4.close()
            let socks5 = try RawSocket(port: port)
            try socks5.send([5, 1, 0, 5, 1, 0, 3, UInt8(name.count)] + name + [0, 81])
            let (_, reply) = try Wire.readSOCKS5Reply(socks5)
            socks5.close()
            return (socks4Reply, reply[1])
        }
        #expect(socks4Reply == 0x5D)
        #expect(socks5Reply == 0x02)
        let lines = await proxy.accessLines(atLeast: 2)
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "only printable text: \(line.debugDescription)")
            // The bare fields come before the quoted error, the one field that may hold spaces.
            let bare = line.components(separatedBy: " error=\"").first ?? line
            #expect(line.components(separatedBy: " error=\"").count <= 2, "\(line)")
            #expect(bare.hasPrefix("client=") && !bare.contains(" client="), "one client field: \(line)")
            #expect(bare.components(separatedBy: " user=").count == 2, "one user field: \(line)")
            #expect(bare.components(separatedBy: " rule=").count <= 2, "at most one rule field: \(line)")
        }
        #expect(lines.contains { $0.contains("the request says 'mallory\\nclient=10.0.0.1 user=root\\x1B[2J'\"") }, "\(lines)")
        #expect(lines.contains { $0.contains("requested=evil.test\\r\\nclient=forged\\x20rule=allow-all\\x1B]0;pwned\\x07:81") }, "\(lines)")
        await proxy.stop()
        await target.stop()
        await identd.stop()
    }
}
