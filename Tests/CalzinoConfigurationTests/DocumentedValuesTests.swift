import CalzinoConfiguration
import CalzinoPolicy
import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// What docs/configuration.md says of values and defaults: a user in both `users` and `users-file` is an
/// error, rates take an optional `/s` and stop at 1 TiB/s, and the default listeners.
@Suite struct DocumentedValuesTests {
    @Test func aUserInBothUsersAndTheUsersFileIsAnError() throws {
        let users = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-users-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: users) }
        try "bob:\(ConfigurationFileTests.hash)\nalice:\(ConfigurationFileTests.hash)\n".write(to: users, atomically: true, encoding: .utf8)
        let options = try ServeOptions.parse("users-file: \(users.path)\nusers:\n  alice: \"\(ConfigurationFileTests.hash)\"\n", file: "f.yaml")
        let error = try #require(throws: ConfigurationFileError.self) { try options.makeConfiguration() }
        #expect(error.file == users.path && error.line == 2, "the users file's line of alice: \(error)")
        #expect(error.problem.contains("user 'alice' is also in f.yaml"), "\(error)")
    }

    @Test func ratesTakeAnOptionalPerSecondAndStopAtOneTebibyte() throws {
        #expect(try ByteRateValue.parse("10MB/s") == 10_000_000)
        #expect(try ByteRateValue.parse("1KiB/s") == 1024)
        #expect(try ByteRateValue.parse("1024GiB") == 1 << 40)
        #expect(try ByteRateValue.parse("1024GiB/s") == 1 << 40)
        #expect(throws: ConfigurationValueError.self) { try ByteRateValue.parse("1025GiB") }
        #expect(throws: ConfigurationValueError.self) { try ByteRateValue.parse("1023") }
        let limits = try ServeOptions.parse("limits: {bandwidth-per-session: {up: 1MiB/s, down: 1024GiB/s}}\n", file: "f.yaml").limits
        #expect(limits.bandwidthPerSession == Bandwidth(up: 1 << 20, down: 1 << 40))
        let error = try #require(throws: ConfigurationFileError.self) {
            try ServeOptions.parse("limits:\n  bandwidth-per-session: {up: 2048GiB/s}\n", file: "f.yaml")
        }
        #expect(error.line == 2 && error.problem.contains("1TiB"), "\(error)")
    }

    /// 127.0.0.1:1080, and [::1]:1080 only if it can be bound.
    @Test func theDefaultListeners() throws {
        let configuration = try ServeOptions().makeConfiguration()
        #expect(configuration.listeners == [try SocketAddress(ipAddress: "127.0.0.1", port: 1080)])
        #expect(configuration.optionalListeners == [try SocketAddress(ipAddress: "::1", port: 1080)])
    }
}
