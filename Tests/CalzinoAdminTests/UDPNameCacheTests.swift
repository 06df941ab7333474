@testable import CalzinoServer
import CalzinoTestSupport
import Foundation
import NIOCore
import Testing

/// An association resolves a destination name once and keeps it (256 names for 30 s, README): three
/// datagrams to one name make one lookup, as `calzino_dns_duration_seconds` counts them.
@Suite(.timeLimit(.minutes(1)))
struct UDPNameCacheTests {
    @Test func threeDatagramsToOneNameMakeOneLookup() async throws {
        #expect(UDPNameCache.capacity == 256 && UDPNameCache.lifetime == .seconds(30), "the documented bounds")
        let echo = try await UDPEchoTarget.start()
        let harness = try await AdminHarness.start()
        let port = harness.socksPort, echoPort = echo.port
        let echoed = try await onThread { () -> [UInt8?] in
            let client = try UDPSocket(timeoutMilliseconds: 3000)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: client.port)
            defer { control.close() }
            return try (1...3).map { (byte: UInt8) in
                try client.send(UDPWire.header(name: "localhost", port: echoPort) + [byte], to: "127.0.0.1", port: relayPort)
                return client.receive()?.last
            }
        }
        #expect(echoed == [1, 2, 3])
        let adminPort = harness.adminPort
        let metrics = try PrometheusText(try await onThread { try HTTPGet.get(port: adminPort, path: "/metrics") }.body)
        #expect(metrics.value("calzino_dns_duration_seconds_count") == 1, "one lookup for three datagrams")
        await harness.stop()
        await echo.stop()
    }
}
