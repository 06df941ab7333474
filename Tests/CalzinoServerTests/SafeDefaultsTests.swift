import CalzinoPolicy
@testable import CalzinoServer
import Foundation
import NIOCore
import SOCKSCore
import CalzinoTestSupport
import Testing

/// Safe by default: no open proxy on a network-facing listener, and no private destinations from one.
@Suite(.timeLimit(.minutes(1)))
struct SafeDefaultsTests {
    static let classes: [(String, AddressClass)] = [
        ("127.0.0.1", .loopback), ("127.9.9.9", .loopback), ("::1", .loopback),
        ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private), ("fd12::1", .private),
        ("169.254.1.1", .linkLocal), ("fe80::1", .linkLocal),
        ("169.254.169.254", .metadata), ("fd00:ec2::254", .metadata),
        ("224.0.0.1", .multicast), ("ff02::1", .multicast),
        ("0.0.0.0", .loopback), ("::", .loopback), ("0.1.0.0", .unspecified),
        ("8.8.8.8", .global), ("172.32.0.1", .global), ("2001:db8::1", .reserved), ("::ffff:10.0.0.1", .private),
    ]

    @Test(arguments: classes)
    func addressClasses(address: String, expected: AddressClass) throws {
        #expect(AddressClass(try SocketAddress(ipAddress: address, port: 1)) == expected)
    }

    @Test func policies() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 1080)
        let lan = try SocketAddress(ipAddress: "192.0.2.10", port: 1080)
        let configuration = CalzinoServerConfiguration(listeners: [lan])
        #expect(configuration.protectedClasses(forListener: loopback).isEmpty)
        #expect(configuration.protectedClasses(forListener: lan) == DestinationPolicy.protectedClasses)
        #expect(!DestinationPolicy.networkFacing.permits(try SocketAddress(ipAddress: "10.0.0.1", port: 80)))
        #expect(DestinationPolicy.networkFacing.permits(try SocketAddress(ipAddress: "8.8.8.8", port: 80)))
        #expect(throws: CalzinoServerError.self) { try configuration.validate() }
        var open = configuration
        open.allowOpenProxy = true
        #expect(throws: Never.self) { try open.validate() }
        open.allowPrivateDestinations = true
        #expect(open.protectedClasses(forListener: lan).isEmpty)
    }

    @Test func aNetworkListenerWithoutAuthenticationRefusesToStart() async throws {
        let result = try await ProcessRunner.run([TestPaths.calzino, "serve", "--listen", "0.0.0.0:0"], timeout: 20)
        #expect(result.status != 0)
        #expect(result.stderr.contains("open proxy"), "\(result.stderr)")
    }

    /// A guarded listener denies a loopback destination given as an address, as a name that resolves to
    /// it, and as a UDP destination.
    @Test func guardedListenerDeniesPrivateDestinations() async throws {
        let target = try await TestTarget.start(.echo)
        let echo = try await UDPEchoTarget.start()
        let proxy = try await TestServer.start { $0.protectedClasses = DestinationPolicy.protectedClasses }
        let port = proxy.port, targetPort = target.port, echoPort = echo.port
        let (byAddress, byName, socks4, udp) = try await onThread { () -> (UInt8, UInt8, UInt8, [UInt8]?) in
            let first = try RawSocket(port: port)
            try first.send(Wire.socks5Connect(port: targetPort))
            let byAddress = try Wire.readSOCKS5Reply(first).reply[1]
            let second = try RawSocket(port: port)
            try second.send(Wire.socks5ConnectName("localhost", port: targetPort))
            let byName = try Wire.readSOCKS5Reply(second).reply[1]
            let third = try RawSocket(port: port)
            try third.send(Wire.socks4Connect(port: targetPort))
            let socks4 = try third.receive(exactly: 8)[1]
            let udpSocket = try UDPSocket(timeoutMilliseconds: 400)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: udpSocket.port)
            _ = control
            try udpSocket.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [1], to: "127.0.0.1", port: relayPort)
            return (byAddress, byName, socks4, udpSocket.receive())
        }
        #expect(byAddress == 0x02)
        #expect(byName == 0x02, "a name that resolves to a denied address is denied")
        #expect(socks4 == 0x5B)
        #expect(udp == nil, "a datagram to a denied address is dropped")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 4)
        #expect(lines.contains { $0.contains("denied:1") })
        await target.stop()
        await echo.stop()
    }
}
