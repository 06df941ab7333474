import CalzinoPolicy
@testable import CalzinoServer
import CalzinoTestSupport
import NIOCore
import SOCKSCore
import Testing

/// Issue 12, defects 11 and 1 through the server: a destination is classified by where the connect goes, so
/// the unspecified address, the name "0" and IPv6 forms of 127.0.0.1 are loopback.
@Suite(.timeLimit(.minutes(1)))
struct LoopbackRouteTests {
    /// What the server answers to a SOCKS5 CONNECT with `address` (ATYP 1 or 4) or a name (ATYP 3).
    private static func reply(proxyPort: Int, destination: [UInt8]) throws -> UInt8 {
        let socket = try RawSocket(port: proxyPort)
        try socket.send([5, 1, 0, 5, 1, 0] + destination)
        _ = try socket.receive(exactly: 2)
        return try socket.receive(exactly: 4)[1]
    }

    private static func destinations(port: Int) -> [(String, [UInt8])] {
        let portBytes = [UInt8(port >> 8), UInt8(port & 0xFF)]
        let mapped: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1]
        let unspecified6: [UInt8] = Array(repeating: 0, count: 16)
        return [
            ("0.0.0.0", [1, 0, 0, 0, 0] + portBytes),
            ("name 0", [3, 1] + Array("0".utf8) + portBytes),
            ("name 0.0.0.0", [3, 7] + Array("0.0.0.0".utf8) + portBytes),
            ("::", [4] + unspecified6 + portBytes),
            ("::ffff:127.0.0.1", [4] + mapped + portBytes),
        ]
    }

    @Test func aLoopbackDenyCoversTheUnspecifiedAddressAndTheName0() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start {
            $0.rules = AccessRules(rules: [AccessRule(name: "no-loopback", action: .deny, destinationAddresses: [.set(.loopback)])])
        }
        let port = proxy.port
        for (label, destination) in Self.destinations(port: target.port) {
            let code = try await onThread { try Self.reply(proxyPort: port, destination: destination) }
            #expect(code == 0x02, "\(label): reply \(code)")
        }
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 5)
        #expect(lines.filter { $0.contains("no-loopback") }.count == 5, "\(lines)")
        await target.stop()
    }

    /// The listener's protected classes (as on a listener facing a network) deny the same routes, and the
    /// IPv6 forms that embed 127.0.0.1 (IPv4-compatible, NAT64, 6to4).
    @Test func aNetworkFacingListenerDeniesEveryRouteToLoopback() async throws {
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start { $0.protectedClasses = DestinationPolicy.protectedClasses }
        let port = proxy.port
        let portBytes = [UInt8(target.port >> 8), UInt8(target.port & 0xFF)]
        let embedded: [(String, [UInt8])] = [
            ("::127.0.0.1", [4] + Array(repeating: 0, count: 12) + [127, 0, 0, 1] + portBytes),
            ("64:ff9b::127.0.0.1", [4, 0, 0x64, 0xFF, 0x9B] + Array(repeating: 0, count: 8) + [127, 0, 0, 1] + portBytes),
            ("2002:7f00:1::", [4, 0x20, 0x02, 127, 0, 0, 1] + Array(repeating: 0, count: 10) + portBytes),
        ]
        for (label, destination) in Self.destinations(port: target.port) + embedded {
            let code = try await onThread { try Self.reply(proxyPort: port, destination: destination) }
            #expect(code == 0x02, "\(label): reply \(code)")
        }
        await proxy.stop()
        await target.stop()
    }
}
