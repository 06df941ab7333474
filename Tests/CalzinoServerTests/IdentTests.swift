import CalzinoPolicy
@testable import CalzinoServer
import NIOCore
import CalzinoTestSupport
import Testing

/// RFC 1413 checks of SOCKS4 requests against a small identd on loopback: 0x5A, 0x5C, 0x5D, the question
/// asked, and the confirmed USERID used by rules.
@Suite(.timeLimit(.minutes(1)))
struct IdentTests {
    static func socks4Connect(port: Int, userID: String) -> [UInt8] {
        [4, 1, UInt8(port >> 8), UInt8(port & 0xFF), 127, 0, 0, 1] + Array(userID.utf8) + [0]
    }

    /// Sends a SOCKS4 CONNECT with `userID`; returns the reply code and the client's local port.
    static func request(proxyPort: Int, targetPort: Int, userID: String) throws -> (code: UInt8, localPort: Int) {
        let socket = try RawSocket(port: proxyPort)
        defer { socket.close() }
        try socket.send(Self.socks4Connect(port: targetPort, userID: userID))
        return (try socket.receive(exactly: 8)[1], socket.localPort)
    }

    @Test(arguments: [
        ("4321 , 1080 : USERID : UNIX : alice", IdentResponse.user("alice")),
        ("4321,1080:USERID:OTHER,UTF-8:  bob smith ", .user("bob smith")),
        ("4321 , 1080 : USERID : UNIX : a:b", .user("a:b")),
        ("4321 , 1080 : ERROR : NO-USER", .error("NO-USER")),
        ("4321 , 1080 : error : HIDDEN-USER", .error("HIDDEN-USER")),
    ])
    func answersParse(line: String, expected: IdentResponse) {
        #expect(IdentResponse.parse(Substring(line), clientPort: 4321, serverPort: 1080) == expected)
    }

    @Test(arguments: ["", "garbage", "4321 , 1081 : USERID : UNIX : alice", "1 , 1080 : USERID : UNIX : alice", "4321 , 1080 : USERID : UNIX", "4321 , 1080 : MAYBE : x"])
    func badAnswersAreNoAnswer(line: String) {
        #expect(IdentResponse.parse(Substring(line), clientPort: 4321, serverPort: 1080) == nil)
    }

    @Test func requiredIdentConfirmsOrRefuses() async throws {
        let target = try await TestTarget.start(.echo)
        let identd = try await TestIdentd.start(naming: "alice")
        let identPort = identd.port
        let proxy = try await TestServer.start {
            $0.ident = .required
            $0.identPort = identPort
        }
        let port = proxy.port, targetPort = target.port
        let (confirmed, mismatch) = try await onThread {
            (try Self.request(proxyPort: port, targetPort: targetPort, userID: "alice"),
             try Self.request(proxyPort: port, targetPort: targetPort, userID: "mallory"))
        }
        #expect(confirmed.code == 0x5A)
        #expect(mismatch.code == 0x5D)
        let questions = identd.questions.withLockedValue { $0 }
        #expect(questions.first.map { $0.0 == confirmed.localPort && $0.1 == port } == true, "asked about (client port, server port): \(questions)")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 2)
        #expect(lines.contains { $0.contains("user=ident:alice") && $0.contains("reply=0x5A") }, "\(lines)")
        #expect(lines.contains { $0.contains("reply=0x5D") && $0.contains("identd says 'alice'") }, "\(lines)")
        await identd.stop()
        await target.stop()
    }

    @Test func noIdentdIsRefusedWhenRequiredAndLetThroughWhenOptional() async throws {
        let target = try await TestTarget.start(.echo)
        // A port with nobody listening: the identd is down.
        let closed = try await TestTarget.start(.echo)
        let closedPort = closed.port
        await closed.stop()
        let required = try await TestServer.start {
            $0.ident = .required
            $0.identPort = closedPort
        }
        let optional = try await TestServer.start {
            $0.ident = .optional
            $0.identPort = closedPort
        }
        let errorAnswer = try await TestIdentd.start { "\($0) , \($1) : ERROR : NO-USER" }
        let errorPort = errorAnswer.port
        let withError = try await TestServer.start {
            $0.ident = .optional
            $0.identPort = errorPort
        }
        let requiredPort = required.port, optionalPort = optional.port, withErrorPort = withError.port, targetPort = target.port
        let codes = try await onThread {
            [try Self.request(proxyPort: requiredPort, targetPort: targetPort, userID: "alice").code,
             try Self.request(proxyPort: optionalPort, targetPort: targetPort, userID: "alice").code,
             try Self.request(proxyPort: withErrorPort, targetPort: targetPort, userID: "alice").code]
        }
        #expect(codes == [0x5C, 0x5A, 0x5D])
        for server in [required, optional, withError] { await server.stop() }
        await errorAnswer.stop()
        await target.stop()
    }

    /// On a listener with users, a rule can admit SOCKS4 by the user identd confirmed.
    @Test func rulesSeeTheConfirmedUser() async throws {
        let target = try await TestTarget.start(.echo)
        let identd = try await TestIdentd.start(naming: "alice")
        let identPort = identd.port
        let hash = try TestHashes.quick("pw")
        let rules = try RulesIntegrationTests.rules("rules:\n  - {name: ident-alice, action: allow, versions: [socks4], users: [ident:alice]}\n")
        let proxy = try await TestServer.start {
            $0.users = UserStore(users: ["bob": hash])
            $0.rules = rules
            $0.ident = .optional
            $0.identPort = identPort
        }
        let port = proxy.port, targetPort = target.port
        let code = try await onThread { try Self.request(proxyPort: port, targetPort: targetPort, userID: "alice").code }
        #expect(code == 0x5A)
        await proxy.stop()
        #expect(await proxy.accessLines(atLeast: 1).contains { $0.contains("user=ident:alice") && $0.contains("rule=ident-alice") })
        await identd.stop()
        await target.stop()
    }

    /// Issue 12, defect 10: an ident-confirmed `alice` is `ident:alice`, apart from password-user alice: a
    /// rule naming `alice` does not match her, and she takes neither alice's `sessions-per-user` quota nor
    /// her bandwidth bucket.
    @Test func identNamesAreNotPasswordUsers() async throws {
        let target = try await TestTarget.start(.echo)
        let identd = try await TestIdentd.start(naming: "alice")
        let identPort = identd.port
        let hash = try TestHashes.quick("pw")
        let rules = try RulesIntegrationTests.rules("""
            rules:
              - {name: password-alice, action: allow, versions: [socks4], users: [alice]}
              - {name: ident-alice, action: allow, versions: [socks4, socks5], users: [ident:alice, alice]}
            """)
        let proxy = try await TestServer.start {
            $0.users = UserStore(users: ["alice": hash])
            $0.rules = rules
            $0.ident = .optional
            $0.identPort = identPort
            $0.limits.sessionsPerUser = 1
        }
        let port = proxy.port, targetPort = target.port
        let (password, identFirst, identSecond) = try await onThread { () -> (UInt8, UInt8, UInt8) in
            let (held, code) = try Wire.authenticatedConnect(proxyPort: port, targetPort: targetPort, user: "alice", password: "pw")
            let socket = try RawSocket(port: port)
            try socket.send(Self.socks4Connect(port: targetPort, userID: "alice"))
            let first = try socket.receive(exactly: 8)[1]
            let second = try Self.request(proxyPort: port, targetPort: targetPort, userID: "alice").code
            held.close()
            socket.close()
            return (code, first, second)
        }
        #expect(password == 0)
        #expect(identFirst == 0x5A, "ident:alice does not take password-user alice's one session")
        #expect(identSecond == 0x5B, "ident:alice has a quota of her own")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 3)
        #expect(lines.contains { $0.contains("user=ident:alice") && $0.contains("rule=ident-alice") && $0.contains("reply=0x5A") }, "\(lines)")
        #expect(!lines.contains { $0.contains("user=ident:alice") && $0.contains("rule=password-alice") }, "\(lines)")
        await identd.stop()
        await target.stop()
    }

    /// Per-user bandwidth buckets that no session holds are dropped once the table grows, so invented
    /// ident names cannot grow it without bound; held ones stay.
    @Test func userBucketsArePruned() {
        let buckets = UserBuckets()
        let held = buckets.bucket(user: "ident:held", scope: "", direction: .down, rate: 1 << 20)
        for index in 0..<(UserBuckets.pruneAbove * 4) {
            _ = buckets.bucket(user: "ident:u\(index)", scope: "", direction: .down, rate: 1 << 20)
        }
        #expect(buckets.count <= UserBuckets.pruneAbove + 1, "\(buckets.count) buckets kept")
        #expect(buckets.bucket(user: "ident:held", scope: "", direction: .down, rate: 1 << 20) === held, "a held bucket stays")
    }
}
