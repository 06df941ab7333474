@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// An association's counters go into its control session's access line (README): datagrams and payload
/// bytes each way, and drops by reason; the session summary carries the same bytes.
@Suite(.timeLimit(.minutes(1)))
struct UDPAccountingTests {
    @Test func theAccessLineCountsDatagramsAndBytesEachWay() async throws {
        let echo = try await UDPEchoTarget.start()
        let summaries = SessionSummaries()
        let proxy = try await TestServer.start(collecting: summaries)
        let port = proxy.port, echoPort = echo.port
        let echoed = try await onThread { () -> [[UInt8]?] in
            let client = try UDPSocket(timeoutMilliseconds: 3000)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: client.port)
            defer { control.close() }
            func roundTrip(_ payload: [UInt8]) throws -> [UInt8]? {
                try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + payload, to: "127.0.0.1", port: relayPort)
                return client.receive()
            }
            // Two datagrams of 3 and 5 payload bytes, each echoed; then a fragment, which is dropped, and one
            // byte more: its echo shows that the server has read (and counted) the fragment before it.
            let first = try roundTrip([1, 2, 3])
            let second = try roundTrip([4, 5, 6, 7, 8])
            try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort, fragment: 1) + [9], to: "127.0.0.1", port: relayPort)
            let third = try roundTrip([0])
            return [first, second, third]
        }
        #expect(echoed.map { $0?.count } == [13, 15, 11], "each datagram came back with its header")
        let line = await proxy.accessLines(atLeast: 1).first ?? ""
        #expect(line.contains("command=udp-associate"))
        #expect(line.contains("udp-up=3/9B udp-down=3/9B"), "3 datagrams and 9 payload bytes each way: \(line)")
        #expect(line.contains("udp-dropped=foreign:0,fragment:1,"), "\(line)")
        let summary = await summaries.wait(for: 1).first
        #expect(summary?.bytesUp == 9 && summary?.bytesDown == 9)
        await proxy.stop()
        await echo.stop()
    }
}
