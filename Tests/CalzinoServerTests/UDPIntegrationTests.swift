@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// UDP ASSOCIATE through the real server on loopback.
@Suite(.timeLimit(.minutes(2)))
struct UDPIntegrationTests {
    // 65,497 is the largest payload a client can send over IPv4: the datagram to the relay carries a
    // 10-byte header within IPv4's 65,507-byte UDP limit.
    @Test(arguments: [5, 8 * 1024, 60 * 1024, 65_497])
    func ipv4EchoThroughTheRelay(size: Int) async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let proxyPort = proxy.port, echoPort = echo.port
        let reply = try await onThread { () -> ([UInt8], [UInt8]?) in
            let udp = try UDPSocket()
            let (control, relayHost, relayPort) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: udp.port)
            _ = control
            let payload = TestPattern.bytes(from: size, count: size)
            try udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + payload, to: "127.0.0.1", port: relayPort)
            return (relayHost, udp.receive())
        }
        #expect(reply.0 == [127, 0, 0, 1], "the relay address is the control connection's local address")
        let datagram = try #require(reply.1)
        #expect(Array(datagram.prefix(10)) == UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort), "the header names the source")
        #expect(Array(datagram.dropFirst(10)) == TestPattern.bytes(from: size, count: size))
        await proxy.stop()
        await echo.stop()
    }

    @Test func ipv6EchoThroughTheRelay() async throws {
        let echo = try await UDPEchoTarget.start(host: "::1")
        let proxy = try await TestServer.start { $0.listeners = [(try? SocketAddress(ipAddress: "::1", port: 0))].compactMap { $0 } }
        let proxyPort = proxy.port, echoPort = echo.port
        let (relayHost, datagram) = try await onThread { () -> ([UInt8], [UInt8]?) in
            let udp = try UDPSocket(ipv6: true)
            let (control, relayHost, relayPort) = try UDPWire.associate(proxyPort: proxyPort, ipv6: true, declaredPort: udp.port)
            _ = control
            try udp.send(UDPWire.header(ipv6Loopback: echoPort) + [9, 8, 7], to: "::1", port: relayPort)
            return (relayHost, udp.receive())
        }
        #expect(relayHost == [UInt8](repeating: 0, count: 15) + [1])
        #expect(datagram.map { Array($0.suffix(3)) } == [9, 8, 7])
        #expect(datagram.map { Array($0.prefix(22)) } == UDPWire.header(ipv6Loopback: echoPort))
        await proxy.stop()
        await echo.stop()
    }

    @Test func nameDestination() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let proxyPort = proxy.port, echoPort = echo.port
        let datagram = try await onThread { () -> [UInt8]? in
            let udp = try UDPSocket()
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: udp.port)
            _ = control
            try udp.send(UDPWire.header(name: "localhost", port: echoPort) + Array("by name".utf8), to: "127.0.0.1", port: relayPort)
            return udp.receive(timeoutMilliseconds: 5000)
        }
        #expect(datagram.map { Array($0.dropFirst(10)) } == Array("by name".utf8))
        await proxy.stop()
        await echo.stop()
    }

    @Test func fragmentsAndStrangersAreDropped() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let proxyPort = proxy.port, echoPort = echo.port
        let (fragment, stranger, good) = try await onThread { () -> ([UInt8]?, [UInt8]?, [UInt8]?) in
            let udp = try UDPSocket(timeoutMilliseconds: 400)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: udp.port)
            _ = control
            try udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort, fragment: 1) + [1], to: "127.0.0.1", port: relayPort)
            let fragment = udp.receive()
            // The declared port is the client's; another port is a stranger.
            try udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [2], to: "127.0.0.1", port: relayPort)
            let good = udp.receive(timeoutMilliseconds: 5000)
            let other = try UDPSocket(timeoutMilliseconds: 400)
            try other.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [3], to: "127.0.0.1", port: relayPort)
            return (fragment, other.receive() ?? udp.receive(), good)
        }
        #expect(fragment == nil, "FRAG != 0 is dropped")
        #expect(good.map { Array($0.suffix(1)) } == [2])
        #expect(stranger == nil, "a datagram from another port is dropped, and nothing comes back to anyone")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("fragment:1") == true)
        #expect(lines.first?.contains("foreign:1") == true)
        await echo.stop()
    }

    @Test func aDeclaredPortIsEnforced() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let proxyPort = proxy.port, echoPort = echo.port
        let (fromOther, fromDeclared) = try await onThread { () -> ([UInt8]?, [UInt8]?) in
            let declared = try UDPSocket(timeoutMilliseconds: 400)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: declared.port)
            _ = control
            let other = try UDPSocket(timeoutMilliseconds: 400)
            try other.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [1], to: "127.0.0.1", port: relayPort)
            let fromOther = other.receive()
            try declared.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [2], to: "127.0.0.1", port: relayPort)
            return (fromOther, declared.receive(timeoutMilliseconds: 5000))
        }
        #expect(fromOther == nil)
        #expect(fromDeclared.map { Array($0.suffix(1)) } == [2])
        await proxy.stop()
        await echo.stop()
    }

    @Test func theAssociationEndsWithItsControlConnection() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let proxyPort = proxy.port, echoPort = echo.port
        let (before, udp, relayPort) = try await onThread { () -> ([UInt8]?, UDPSocket, Int) in
            let udp = try UDPSocket(timeoutMilliseconds: 400)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: udp.port)
            try udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [1], to: "127.0.0.1", port: relayPort)
            let before = udp.receive(timeoutMilliseconds: 5000)
            control.close()
            return (before, udp, relayPort)
        }
        // The association's access line is written once the server has seen the control connection end.
        _ = await proxy.accessLines(atLeast: 1)
        let after = try await onThread { () -> [UInt8]? in
            try? udp.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [2], to: "127.0.0.1", port: relayPort)
            return udp.receive(timeoutMilliseconds: 400)
        }
        #expect(before != nil)
        #expect(after == nil, "no relay once the control connection is gone")
        await proxy.stop()
        await echo.stop()
    }

    @Test func idleAssociationsEnd() async throws {
        let proxy = try await TestServer.start { $0.timeouts.udpIdle = .milliseconds(300) }
        let proxyPort = proxy.port
        let closed = try await onThread {
            let (control, _, _) = try UDPWire.associate(proxyPort: proxyPort, declaredPort: 9)
            return control.waitForFIN()
        }
        #expect(closed, "the server ends an idle association and its control connection")
        let lines = await proxy.accessLines(atLeast: 1)
        #expect(lines.first?.contains("udp idle timeout") == true)
        await proxy.stop()
    }

    @Test func pysocksUDP() async throws {
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start()
        let result = try await ProcessRunner.run(["python3", TestPaths.script("udp_echo_check.py"), "\(proxy.port)", "\(echo.port)"], timeout: 30)
        #expect(result.status == 0, "\(String(decoding: result.stdout, as: UTF8.self)) \(result.stderr)")
        await proxy.stop()
        await echo.stop()
    }
}
