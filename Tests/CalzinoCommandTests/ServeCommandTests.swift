import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// The `calzino` binary as an operator runs it: help, flag errors, signals and the drain.
@Suite(.timeLimit(.minutes(2)))
struct ServeCommandTests {
    /// Every option of `calzino serve`, each with its explanation and the file key it matches.
    static let serveOptions: [(flag: String, fileKey: String?)] = [
        ("--config", nil), ("--listen", "listen"), ("--handshake-timeout", "timeouts.handshake"),
        ("--connect-timeout", "timeouts.connect"), ("--bind-timeout", "timeouts.bind"), ("--udp-advertise", "udp-advertise"),
        ("--udp-client-port", "udp-client-port"), ("--udp-replies", "udp-replies"), ("--udp-idle-timeout", "timeouts.udp-idle"),
        ("--idle-timeout", "timeouts.idle"), ("--drain-timeout", "timeouts.drain"), ("--log-level", "log-level"),
        ("--log-format", "log-format"), ("--threads", "threads"), ("--users", "users-file"),
        ("--allow-open-proxy", "allow-open-proxy"), ("--allow-private-destinations", "allow-private-destinations"),
        ("--max-sessions", "limits.max-sessions"), ("--max-connections", "limits.max-connections"), ("--ident", "ident"),
        ("--admin", "admin"),
    ]

    @Test func helpExplainsEveryOption() async throws {
        let top = try await ProcessRunner.run([TestPaths.calzino, "--help"])
        #expect(top.status == 0)
        #expect(String(decoding: top.stdout, as: UTF8.self).contains("serve"))
        let serve = try await ProcessRunner.run([TestPaths.calzino, "serve", "--help"])
        let text = String(decoding: serve.stdout, as: UTF8.self)
        #expect(serve.status == 0)
        // The help of each option: from its line (`  --flag` then a space or end of line, so that
        // `--idle-timeout` is not found inside `--udp-idle-timeout`) to the next option's.
        let lines = text.components(separatedBy: "\n")
        let starts = lines.indices.filter { lines[$0].hasPrefix("  -") }
        var help: [String: String] = [:]
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : lines.count
            let flag = lines[start].dropFirst(2).prefix { $0 != " " }
            help[String(flag)] = lines[start..<end].joined(separator: " ").split(separator: " ").joined(separator: " ")
        }
        #expect(Set(help.keys) == Set(Self.serveOptions.map(\.flag) + ["--version", "-h,"]), "the options in the help: \(help.keys.sorted())")
        for (flag, fileKey) in Self.serveOptions {
            let explanation = help[flag] ?? ""
            #expect(explanation.count > flag.count + 30, "\(flag) is explained: \(explanation)")
            if let fileKey {
                #expect(explanation.contains("(file: \(fileKey))"), "\(flag) names its file key \(fileKey): \(explanation)")
            }
        }
    }

    @Test(arguments: [
        ["--listen", "nowhere"], ["--listen", "127.0.0.1:70000"], ["--drain-timeout", "forever"],
        ["--handshake-timeout", "-5"], ["--log-level", "loud"], ["--threads", "0"], ["--threads", "99999999999999999999"],
    ])
    func badFlagsAreRefusedClearly(arguments: [String]) async throws {
        let result = try await ProcessRunner.run([TestPaths.calzino, "serve"] + arguments, timeout: 20)
        #expect(result.status != 0)
        #expect(!result.timedOut)
        #expect(result.stderr.contains("Error"), "a message, not a crash: \(result.stderr)")
        #expect(result.status != 132 && result.status != 133 && result.status != 134, "no trap")
    }

    /// SIGTERM stops accepting at once, lets a running transfer finish, then exits 0.
    @Test func sigtermDrainsARunningTransfer() async throws {
        let total = 48 << 20
        let target = try await TestTarget.start(.source(count: total))
        let (server, log, port) = try await ServeProcess.start(["--drain-timeout", "60s", "--log-level", "debug"])
        let targetPort = target.port
        let socket = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            _ = try socket.receive(exactly: 1 << 20)
            return socket
        }
        kill(server.processIdentifier, SIGTERM)
        // The listener closes; the open tunnel keeps going.
        var refused = false
        for _ in 0..<300 where !refused {
            refused = (try? RawSocket(port: port, timeoutSeconds: 1)) == nil
            if !refused { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        #expect(refused, "new connections are refused during the drain")
        #expect(server.isRunning, "the server waits for the open session")
        let rest = try await onThread {
            defer { socket.close() }
            return try socket.drainCounting { _, _ in true }
        }
        #expect(rest == total - (1 << 20), "the transfer finished")
        let exited = await ServeProcess.waitForExit(server, seconds: 20)
        #expect(exited, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        if exited {
            #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        } else {
            server.terminate()
        }
        await target.stop()
    }

    /// A session that outlives the drain deadline is closed by the server at the deadline (not at the signal,
    /// and not only by the kernel at exit), and the process still exits 0.
    @Test func drainDeadlineClosesLeftoverSessions() async throws {
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start(["--drain-timeout", "500ms"])
        let targetPort = target.port
        let socket = try await onThread {
            let socket = try Wire.openTunnel(proxyPort: port, targetPort: targetPort)
            return socket
        }
        let signalled = Date()
        kill(server.processIdentifier, SIGINT)
        async let end = onThread { (socket.waitForEnd(), Date()) }
        let exited = await ServeProcess.waitForExit(server, seconds: 20)
        #expect(exited)
        if exited {
            #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        } else {
            server.terminate()
        }
        let (ending, endedAt) = try await end
        let closedAfter = endedAt.timeIntervalSince(signalled)
        #expect(ending == .fin, "the idle tunnel was closed in order")
        #expect(closedAfter > 0.4 && closedAfter < 5, "closed at the 500 ms drain deadline: \(closedAfter) s after SIGINT")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("drain deadline passed, closing sessions"), "\(text)")
        // The session's access line is written by the server when it closes the session; a process that
        // exited with the session open (its sockets closed by the kernel) would never write it.
        #expect(text.contains("command=connect") && text.contains("reply=0x00"), "the server closed and logged the session: \(text)")
        await target.stop()
    }
}

/// Issue 13: the version and the build, and shell completions from ArgumentParser.
@Suite(.timeLimit(.minutes(1)))
struct VersionCommandTests {
    @Test func versionNamesTheReleaseAndTheBuild() async throws {
        let result = try await ProcessRunner.run([TestPaths.calzino, "--version"], timeout: 20)
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0)
        #expect(text.hasPrefix("0.13.0 (debug build, Swift"), "\(text)")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(shell: String) async throws {
        let result = try await ProcessRunner.run([TestPaths.calzino, "--generate-completion-script", shell], timeout: 20)
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0)
        #expect(text.contains("calzino") && text.contains("serve") && text.contains("udp-client-port"), "\(text.prefix(200))")
    }
}
