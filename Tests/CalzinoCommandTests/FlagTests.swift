import Foundation
import Glibc
import CalzinoTestSupport
import Testing

/// The flags reach the server: each flag's value shows in the effective configuration, `--log-level`
/// filters, `--udp-advertise` names its address in UDP replies, and the descriptor limit is raised from its
/// soft to its hard value at start.
@Suite(.timeLimit(.minutes(1)))
struct FlagTests {
    @Test func everyLimitAndTimeoutFlagReachesTheConfiguration() async throws {
        let file = try ConfigurationCommandTests.temporaryFile("# nothing\n")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await ProcessRunner.run([
            TestPaths.calzino, "check-config", file.path, "--max-sessions", "7", "--max-connections", "9", "--bind-timeout", "300ms",
            "--udp-idle-timeout", "0", "--ident", "required", "--log-level", "warning", "--udp-advertise", "127.0.0.9",
        ])
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["  max-sessions: 7", "  max-connections: 9", "  bind: 300ms", "  udp-idle: 0  # disabled", "ident: required", "log-level: warning", "udp-advertise: \"127.0.0.9\""] {
            #expect(output.components(separatedBy: "\n").contains(line), "'\(line)' in:\n\(output)")
        }
    }

    /// A CONNECT to a closed port logs "connect failed" at debug level: seen with `--log-level debug`, filtered
    /// out at the default `info`, while the access line (info) shows in both.
    @Test func theLogLevelFilters() async throws {
        let closed = try ClosedPort()
        let closedPort = closed.port
        var logs: [String] = []
        for level in ["debug", "info"] {
            let (server, log, port) = try await ServeProcess.start(["--log-level", level])
            let code = try await onThread { try ConfigurationCommandTests.connectReply(proxyPort: port, targetPort: closedPort) }
            #expect(code == 0x05)
            #expect(await ConfigurationCommandTests.waitForLog(log, containing: "reply=0x05"))
            logs.append((try? String(contentsOf: log, encoding: .utf8)) ?? "")
            await ServeProcess.stop(server, log: log)
        }
        #expect(logs[0].contains("connect failed"), "debug shows the debug line")
        #expect(!logs[1].contains("connect failed"), "info filters it out")
        withExtendedLifetime(closed) {}
    }

    @Test func udpAdvertiseNamesItsAddressInTheReply() async throws {
        let (server, log, port) = try await ServeProcess.start(["--udp-advertise", "127.0.0.9"])
        let relayHost = try await onThread { () -> [UInt8] in
            let (control, host, _) = try UDPWire.associate(proxyPort: port, declaredPort: 9)
            control.close()
            return host
        }
        #expect(relayHost == [127, 0, 0, 9], "the advertised address, not the one the client reached")
        await ServeProcess.stop(server, log: log)
    }

    /// Soft limit 100, hard 300: the server raises its soft limit to 300 and sizes its capacity from it,
    /// (300 - 64 reserved) / 2 descriptors per connection.
    @Test func theDescriptorLimitIsRaisedFromSoftToHard() async throws {
        let (server, log, _) = try await ServeProcess.start([], descriptorLimit: 300, softDescriptorLimit: 100)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("descriptor-limit=300 max-connections=118"), "\(text)")
        await ServeProcess.stop(server, log: log)
    }
}
