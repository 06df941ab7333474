@testable import CalzinoServer
import Foundation
import Logging
import NIOCore
import CalzinoTestSupport
import Testing

/// Refusals are logged as one warning at most every 5 s, with their count (README, docs/configuration.md).
@Suite(.timeLimit(.minutes(1)))
struct ThrottledWarningTests {
    @Test func theServersIntervalIsFiveSeconds() {
        #expect(ThrottledWarning(message: "refusing").interval == .seconds(5))
        #expect(SharedLimiters().handshakeWarning.interval == .seconds(5))
    }

    /// With the interval shortened to 300 ms: 50 refusals at once make one warning (the first); one more
    /// after the interval makes the second, which counts the 49 it held back and itself.
    @Test func oneWarningPerIntervalWithTheCount() async throws {
        let (logger, log) = CapturingLogHandler.logger(label: "calzino")
        let warning = ThrottledWarning(message: "refusing", interval: .milliseconds(300))
        for _ in 0..<50 { warning.record(logger) }
        #expect(log.events.map { $0.metadata["refused"]?.description } == ["1"])
        try await Task.sleep(nanoseconds: 350_000_000)
        warning.record(logger)
        #expect(log.events.map { $0.metadata["refused"]?.description } == ["1", "50"])
    }

    /// The handshake-rate limit's refusals: 20 connections at 1 per second make one warning.
    @Test func theHandshakeRateWarningIsThrottled() async throws {
        var configuration = CalzinoServerConfiguration(listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)])
        configuration.limits.handshakesPerClientPerSecond = 1
        let (logger, log) = CapturingLogHandler.logger(label: "calzino")
        let server = CalzinoServer(configuration: configuration, logger: logger)
        let port = try #require(try await server.start().first?.port)
        // All at once; then each waits (up to 1 s) for the server's close: the admitted one stays open.
        let sockets = try await onThread { try (0..<20).map { _ in try RawSocket(port: port, timeoutSeconds: 1) } }
        let endings = try await onThread { sockets.map { $0.waitForEnd() } }
        #expect(endings.filter { $0 == .fin }.count >= 18, "the connections beyond the rate are closed: \(endings)")
        let warnings = log.events.filter { $0.line.contains("handshake rate limit reached") }
        #expect(warnings.count == 1, "one warning for the refusals of the last 5 s: \(log.lines)")
        #expect(warnings.first?.metadata["refused"]?.description == "1" && warnings.first?.metadata["client"]?.description == "127.0.0.1")
        sockets.forEach { $0.close() }
        await server.shutdown()
    }
}
