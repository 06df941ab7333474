import CalzinoPolicy
import NIOCore
import SOCKSCore
import Testing

/// Issue 12, defect 12: per-client limits count an IPv4 client once whichever family its listener has, and
/// an IPv6 client by its network (default /64), not by the address string.
@Suite struct ClientKeyTests {
    private static func key(_ address: String, prefix: Int = ClientKey.defaultIPv6Prefix) throws -> ClientKey {
        ClientKey(try SocketAddress(ipAddress: address, port: 40000), ipv6Prefix: prefix)
    }

    @Test func anIPv4MappedClientIsItsIPv4Address() throws {
        #expect(try Self.key("::ffff:127.0.0.1") == Self.key("127.0.0.1"))
        #expect(try Self.key("::ffff:127.0.0.1").description == "127.0.0.1")
        #expect(try Self.key("127.0.0.1") != Self.key("127.0.0.2"))
    }

    @Test func anIPv6ClientIsItsNetwork() throws {
        #expect(try Self.key("2001:db8:1:2::1") == Self.key("2001:db8:1:2:ffff:ffff:ffff:fffe"))
        #expect(try Self.key("2001:db8:1:2::1") != Self.key("2001:db8:1:3::1"))
        #expect(try Self.key("2001:db8:1:2::1").description == "2001:db8:1:2::/64")
        #expect(try Self.key("2001:db8:1:2::1", prefix: 128) != Self.key("2001:db8:1:2::2", prefix: 128))
        #expect(try Self.key("2001:db8:1:2::1", prefix: 48) == Self.key("2001:db8:1:ff::2", prefix: 48))
    }

    @Test func theLimitsCarryThePrefix() throws {
        let address = try SocketAddress(ipAddress: "2001:db8::1", port: 1)
        let other = try SocketAddress(ipAddress: "2001:db8::ff:1", port: 1)
        #expect(Limits().clientKey(address) == Limits().clientKey(other))
        #expect(Limits(clientIPv6Prefix: 128).clientKey(address) != Limits(clientIPv6Prefix: 128).clientKey(other))
        #expect(Limits(clientIPv6Prefix: 128).over(Limits(clientIPv6Prefix: 64)).clientIPv6Prefix == 128)
    }
}
