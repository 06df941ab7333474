import Foundation
import CalzinoTestSupport
import Testing

/// A thousand UDP associations, some with an outbound socket, leave no descriptor behind: counted in the
/// server's own process (the binary), where no other test's sockets come and go.
@Suite(.timeLimit(.minutes(2)))
struct UDPDescriptorTests {
    @Test func aThousandAssociationsLeaveNoDescriptorBehind() async throws {
        let echo = try await UDPEchoTarget.start()
        let (server, log, port) = try await ServeProcess.start([])
        let probe = ProcessProbe(pid: server.processIdentifier)
        let echoPort = echo.port
        // One association first, so that descriptors the process opens once, lazily, are in the baseline.
        try await onThread {
            let (control, _, _) = try UDPWire.associate(proxyPort: port, declaredPort: 9)
            control.close()
        }
        // Its access line comes once the association is closed: then the baseline holds.
        #expect(await ConfigurationCommandTests.waitForLog(log, containing: "command=udp-associate"))
        let before = probe.openDescriptors
        let echoed = try await onThread { () -> Int in
            let udp = try UDPSocket(timeoutMilliseconds: 2000)
            var echoed = 0
            for round in 0..<1000 {
                let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: udp.port)
                if round % 100 == 0 {
                    // Some associations also open their destination socket.
                    try udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [1], to: "127.0.0.1", port: relayPort)
                    if udp.receive() != nil { echoed += 1 }
                }
                control.close()
            }
            return echoed
        }
        #expect(echoed == 10, "the associations with a destination relayed")
        let back = await ProcessProbe.wait(seconds: 5) { probe.openDescriptors <= before }
        #expect(back, "the server's descriptors: \(before) before, \(probe.openDescriptors) after")
        await ServeProcess.stop(server, log: log)
        await echo.stop()
    }
}
