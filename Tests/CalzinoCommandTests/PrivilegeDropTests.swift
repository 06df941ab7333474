import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// Issue 13: `user:` and `group:`: the listeners are bound first (a privileged port included), then the
/// process is the user and group, with no supplementary groups; a switch that fails stops the server.
@Suite(.timeLimit(.minutes(1)))
struct PrivilegeDropTests {
    static var isRoot: Bool { getuid() == 0 }

    static func config(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-drop-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        // The user the server becomes must still read nothing more: the file is read before the switch.
        return file
    }

    /// The `Uid:`, `Gid:` and `Groups:` lines of /proc/PID/status.
    static func ids(of pid: Int32) -> [String: String] {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        var ids: [String: String] = [:]
        for line in status.split(separator: "\n") {
            for key in ["Uid", "Gid", "Groups"] where line.hasPrefix("\(key):") {
                ids[key] = line.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
        }
        return ids
    }

    /// The ids once the process has become nobody (65534), or as they are after 2 s.
    static func idsOnceDropped(_ pid: Int32) async throws -> [String: String] {
        var ids = Self.ids(of: pid)
        for _ in 0..<100 where ids["Uid"]?.hasPrefix("65534") != true {
            try await Task.sleep(nanoseconds: 20_000_000)
            ids = Self.ids(of: pid)
        }
        return ids
    }

    @Test(.enabled(if: PrivilegeDropTests.isRoot || ProcessInfo.processInfo.environment["CI"] == "true", "needs root"))
    func theServerBindsThenBecomesTheUser() async throws {
        #expect(Self.isRoot, "CI runs as root")
        let target = try await TestTarget.start(.echo)
        let config = try Self.config("user: nobody\ngroup: nogroup\n")
        defer { try? FileManager.default.removeItem(at: config) }
        // Port 1000: a privileged port, which only the process as root could bind.
        let (server, log, port) = try await ServeProcess.start(["--config", config.path, "--listen", "127.0.0.1:1000"])
        defer { server.terminate() }
        // Every thread, the main one included (see Sources/calzino/Entry.swift), and so what `ps` shows.
        let ids = try await Self.idsOnceDropped(server.processIdentifier)
        #expect(ids["Uid"] == "65534 65534 65534 65534", "real, effective, saved and file-system uid: \(ids)")
        #expect(ids["Gid"] == "65534 65534 65534 65534", "\(ids)")
        #expect(ids["Groups"] == "", "no supplementary groups: \(ids)")
        let targetPort = target.port
        let served = try await onThread { () -> Bool in
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: [4, 2])
            defer { tunnel.close() }
            return try tunnel.receive(exactly: 2) == [4, 2]
        }
        #expect(served, "still serves after the switch")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("privileges dropped"))
        #expect(text.contains("address=127.0.0.1:1000"), "the privileged port was bound before the switch")
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        try? FileManager.default.removeItem(at: log)
        await target.stop()
    }

    @Test func aSwitchThatCannotHappenStopsTheServer() async throws {
        let config = try Self.config("user: no-such-user-here\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let result = try await ProcessRunner.run([TestPaths.calzino, "serve", "--config", config.path, "--listen", "127.0.0.1:0"], timeout: 20)
        #expect(result.status != 0)
        #expect(result.stderr.contains("no such user"), "\(result.stderr)")
    }
}

extension PrivilegeDropTests {
    /// Every thread of the process has dropped, not only the leader that /proc/PID/status shows.
    @Test(.enabled(if: PrivilegeDropTests.isRoot || ProcessInfo.processInfo.environment["CI"] == "true", "needs root"))
    func everyThreadIsTheUser() async throws {
        let config = try Self.config("user: nobody\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let (server, log, _) = try await ServeProcess.start(["--config", config.path])
        defer { server.terminate() }
        let pid = server.processIdentifier
        var rootThreads = -1
        for _ in 0..<100 where rootThreads != 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            rootThreads = tasks.filter { task in
                let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
                return status.contains("Uid:\t0\t")
            }.count
        }
        #expect(rootThreads == 0, "threads still root: \(rootThreads)")
        kill(pid, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        try? FileManager.default.removeItem(at: log)
    }
}

extension PrivilegeDropTests {
    /// Review finding: a numeric user takes its own group from the user database and loses root's groups.
    @Test(.enabled(if: PrivilegeDropTests.isRoot || ProcessInfo.processInfo.environment["CI"] == "true", "needs root"))
    func aNumericUserTakesItsGroup() async throws {
        let config = try Self.config("user: \"65534\"\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let (server, log, _) = try await ServeProcess.start(["--config", config.path])
        defer { server.terminate() }
        let ids = try await Self.idsOnceDropped(server.processIdentifier)
        #expect(ids["Uid"] == "65534 65534 65534 65534" && ids["Gid"] == "65534 65534 65534 65534" && ids["Groups"] == "", "\(ids)")
        kill(server.processIdentifier, SIGTERM)
        _ = await ServeProcess.waitForExit(server, seconds: 10)
        try? FileManager.default.removeItem(at: log)
    }
}
