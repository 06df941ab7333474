import NIOConcurrencyHelpers
import Dispatch
import CalzinoConfiguration
@testable import CalzinoServer
import Foundation
import NIOCore
import SOCKSCore
import CalzinoTestSupport
import Testing

/// RFC 1929 username/password: hashes, the users file, the handshake, and real clients.
@Suite(.timeLimit(.minutes(1)))
struct AuthenticationTests {
    @Test func hashesVerifyAndRoundTrip() throws {
        let hash = try PasswordHash.make(password: "correct horse")
        #expect(hash.verify(Array("correct horse".utf8)))
        #expect(!hash.verify(Array("correct horsf".utf8)))
        let parsed = try PasswordHash(encoded: Substring(hash.encoded))
        #expect(parsed == hash)
        #expect(parsed.verify(Array("correct horse".utf8)))
        #expect(!hash.encoded.contains("correct"))
    }

    @Test(arguments: [
        "", "scrypt", "md5$1$2$3$aa$bb", "scrypt$1000$8$1$00$" + String(repeating: "0", count: 64),
        "scrypt$99999999999999999999$8$1$00$" + String(repeating: "0", count: 64),
        "scrypt$2097152$8$1$00$" + String(repeating: "0", count: 64), "scrypt$1024$0$1$00$" + String(repeating: "0", count: 64),
        "scrypt$1024$8$99$00$" + String(repeating: "0", count: 64), "scrypt$1024$8$1$0$" + String(repeating: "0", count: 64),
        "scrypt$1024$8$1$zz$" + String(repeating: "0", count: 64), "scrypt$1024$8$1$00$00",
    ])
    func malformedHashesAreRefused(text: String) {
        #expect(throws: CalzinoServerError.self) { try PasswordHash(encoded: Substring(text)) }
    }

    /// Issue 12, defect 13: a hash from a file may not make one verification hold more than 64 MiB
    /// (scrypt holds 128 × r × N bytes); the default's 16 MiB and four times it pass.
    @Test(arguments: [
        ("16384$8", true), ("65536$8", true), ("524288$1", true),
        ("131072$8", false), ("1048576$1", false), ("1048576$32", false), ("262144$4", false),
    ])
    func scryptMemoryIsBounded(parameters: String, accepted: Bool) {
        let text = "scrypt$\(parameters)$1$00$" + String(repeating: "0", count: 64)
        let parsed = (try? PasswordHash(encoded: Substring(text))) != nil
        #expect(parsed == accepted, "\(parameters)")
    }

    /// Issue 12, defect 13: unknown names are checked against a decoy with the default parameters, not
    /// against some user's (whose cost a file chooses).
    @Test func theDecoyHasTheDefaultParameters() throws {
        let cheap = try TestHashes.quick("pw")
        let store = UserStore(users: ["alice": cheap])
        #expect(cheap.rounds != PasswordHash.defaultRounds)
        #expect(store.decoy.rounds == PasswordHash.defaultRounds && store.decoy.blockSize == PasswordHash.defaultBlockSize)
        #expect(store.decoy.parallelism == PasswordHash.defaultParallelism)
    }

    /// Password checks run a bounded number at a time (each holds scrypt's memory), a bounded number wait,
    /// and the rest are refused at once: a login flood cannot take the host's memory.
    @Test func passwordChecksRunABoundedNumberAtATime() async throws {
        let pool = VerificationPool(workers: 1, queueLimit: 1)
        let gate = DispatchSemaphore(value: 0)
        let finished = NIOLockedValueBox<[Int]>([])
        #expect(pool.submit { gate.wait(); finished.withLockedValue { $0.append(1) } } == .started)
        #expect(pool.submit { finished.withLockedValue { $0.append(2) } } == .queued)
        #expect(pool.submit { finished.withLockedValue { $0.append(3) } } == .refused)
        #expect(finished.withLockedValue { $0 }.isEmpty, "the second waits for the one worker")
        gate.signal()
        for _ in 0..<200 where finished.withLockedValue({ $0.count }) < 2 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(finished.withLockedValue { $0 } == [1, 2])
        #expect(pool.submit { } == .started, "the worker is free again")
    }

    @Test func usersFile() throws {
        let hash = try TestHashes.quick("pw").encoded
        let store = try UsersFile.parse("# users\n\nalice:\(hash)\n  bob:\(hash)  \n", file: "users.txt")
        #expect(store.count == 2)
        #expect(store.verify(username: Array("alice".utf8), password: Array("pw".utf8)) == "alice")
        #expect(store.verify(username: Array("alice".utf8), password: Array("px".utf8)) == nil)
        #expect(store.verify(username: Array("carol".utf8), password: Array("pw".utf8)) == nil)
    }

    @Test(arguments: [
        ("alice\n", 1, "expected name:hash"),
        ("# ok\nalice:nonsense\n", 2, "user 'alice'"),
        ("", 0, "no users"),
    ])
    func usersFileErrorsNameTheLine(text: String, line: Int, problem: String) {
        do {
            _ = try UsersFile.parse(text, file: "users.txt")
            Issue.record("parsed")
        } catch let error as ConfigurationFileError {
            #expect(error.file == "users.txt")
            #expect(error.line == line)
            #expect(error.problem.contains(problem), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func duplicateUsersAreAnError() throws {
        let hash = try TestHashes.quick("pw").encoded
        #expect(throws: ConfigurationFileError(file: "f", line: 2, problem: "user 'a' appears twice")) {
            try UsersFile.parse("a:\(hash)\na:\(hash)\n", file: "f")
        }
    }

    @Test func stateMachineAuthenticates() {
        var machine = SOCKSServerHandshakeStateMachine(acceptedMethods: [.usernamePassword], acceptsSOCKS4: false)
        var buffer = ByteBuffer(bytes: [5, 2, 0, 2, 1, 1, 0x61, 1, 0x62, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80])
        #expect(machine.receivedBytes(&buffer) == .send(.socks5MethodSelection(SOCKS5MethodSelection(method: .usernamePassword))))
        #expect(machine.receivedBytes(&buffer) == .authenticate(SOCKS5UsernamePasswordRequest(username: "a", password: "b")))
        #expect(machine.receivedBytes(&buffer) == .needMoreBytes, "the request waits for the verdict")
        #expect(machine.authenticationSucceeded() == .usernamePasswordResponse(.success))
        guard case .request = machine.receivedBytes(&buffer) else {
            Issue.record("expected the request")
            return
        }
        var refused = SOCKSServerHandshakeStateMachine(acceptedMethods: [.usernamePassword], acceptsSOCKS4: false)
        var noAuth = ByteBuffer(bytes: [5, 1, 0])
        #expect(refused.receivedBytes(&noAuth) == .sendAndClose(.socks5MethodSelection(SOCKS5MethodSelection(method: .noAcceptableMethods)), cause: .notAllowedByRuleset))
        var socks4 = SOCKSServerHandshakeStateMachine(acceptedMethods: [.usernamePassword], acceptsSOCKS4: false)
        var request4 = ByteBuffer(bytes: [4, 1, 0, 80, 127, 0, 0, 1, 0])
        #expect(socks4.receivedBytes(&request4) == .sendAndClose(.socks4Reply(SOCKS4Reply(code: .rejectedOrFailed)), cause: .notAllowedByRuleset))
    }

    static func serverWithAlice() async throws -> TestServer {
        let store = try UsersFile.parse("alice:\(try TestHashes.quick("s3cret").encoded)\n", file: "users")
        return try await TestServer.start { $0.users = store }
    }

    @Test func curlWithTheRightPassword() async throws {
        let target = try await TestTarget.start(.http(body: Array(repeating: 0x42, count: 10_000)))
        let proxy = try await Self.serverWithAlice()
        let ok = try await ProcessRunner.run(["curl", "-sS", "--max-time", "20", "--socks5", "127.0.0.1:\(proxy.port)", "--proxy-user", "alice:s3cret", "http://127.0.0.1:\(target.port)/"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.count == 10_000)
        let wrong = try await ProcessRunner.run(["curl", "-sS", "--max-time", "20", "--socks5", "127.0.0.1:\(proxy.port)", "--proxy-user", "alice:guess", "http://127.0.0.1:\(target.port)/"])
        #expect(wrong.status != 0)
        let none = try await ProcessRunner.run(["curl", "-sS", "--max-time", "20", "--socks5", "127.0.0.1:\(proxy.port)", "http://127.0.0.1:\(target.port)/"])
        #expect(none.status != 0, "no credentials: 0xFF")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 3)
        #expect(lines.contains { $0.contains("user=alice") && $0.contains("reply=0x00") })
        #expect(lines.contains { $0.contains("authentication failed") })
        #expect(!lines.contains { $0.contains("s3cret") || $0.contains("guess") }, "no password in the log")
        await target.stop()
    }

    @Test func pythonSocksWithCredentials() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await Self.serverWithAlice()
        let result = try await ProcessRunner.run(["python3", TestPaths.script("echo_check.py"), "python-socks", "socks5://alice:s3cret@127.0.0.1:\(proxy.port)", "127.0.0.1", "\(target.port)", "10000"])
        #expect(result.status == 0, "\(result.stderr)")
        await proxy.stop()
        await target.stop()
    }
}
