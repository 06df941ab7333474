import CalzinoPolicy
import NIOCore
import SOCKSCore
import Testing

/// Issue 12, defect 1: every route to an internal address is classified as that address, every
/// special-purpose block has a class, and the metadata set covers the major clouds. Defect 11: the
/// unspecified address is where a connect to it goes, this host.
@Suite struct AddressClassTests {
    /// IPv6 forms that embed an IPv4 address are in its class (the stricter wins).
    static let embedded: [(String, AddressClass)] = [
        ("64:ff9b::7f00:1", .loopback),  // NAT64 well-known prefix, 127.0.0.1
        ("64:ff9b::a9fe:a9fe", .metadata),  // NAT64, 169.254.169.254
        ("64:ff9b::a00:1", .private),  // NAT64, 10.0.0.1
        ("64:ff9b:1::a00:1", .private),  // local-use NAT64 at /96
        ("64:ff9b:1:0:7f:0:100:0", .loopback),  // local-use NAT64 at /64: 127.0.0.1 in bits 72-103
        ("64:ff9b:1:a9fe:a9:fe00::", .metadata),  // local-use NAT64 at /48: 169.254 | u | 169.254
        ("2002:7f00:1::1", .loopback),  // 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", .metadata),  // 6to4 of 169.254.169.254
        ("2002:c0a8:101::", .private),  // 6to4 of 192.168.1.1
        ("::127.0.0.1", .loopback),  // IPv4-compatible
        ("::10.1.2.3", .private),
        ("::ffff:0:127.0.0.1", .loopback),  // IPv4-translated
        ("::ffff:0:169.254.169.254", .metadata),
        ("::ffff:127.0.0.1", .loopback),  // IPv4-mapped
        ("::ffff:0.0.0.0", .loopback),
        ("2001:0:7f00:1::", .loopback),  // Teredo server 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", .private),  // Teredo client ~f5fffffe = 10.0.0.1
    ]

    /// The rest of the IPv4 and IPv6 special-purpose registries, the deprecated forms, and the clouds.
    static let special: [(String, AddressClass)] = [
        ("0.0.0.0", .loopback), ("::", .loopback), ("0.1.2.3", .unspecified), ("0.255.255.255", .unspecified),
        ("10.0.0.1", .private), ("100.64.0.1", .private), ("100.127.255.255", .private), ("127.0.0.1", .loopback),
        ("127.255.255.254", .loopback), ("169.254.1.1", .linkLocal), ("172.16.0.1", .private), ("192.168.1.1", .private),
        ("192.0.0.1", .reserved), ("192.0.0.8", .reserved), ("192.0.0.170", .reserved), ("192.0.2.1", .reserved),
        ("192.88.99.1", .reserved), ("198.18.0.1", .reserved), ("198.19.255.255", .reserved), ("198.51.100.1", .reserved),
        ("203.0.113.1", .reserved), ("240.0.0.1", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .reserved),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
        ("::1", .loopback), ("100::1", .reserved), ("100:0:0:1::1", .reserved), ("2001:2::1", .reserved),
        ("2001:10::1", .reserved), ("2001:db8::1", .reserved), ("3fff::1", .reserved), ("5f00::1", .reserved),
        ("2001:100::1", .reserved), ("fc00::1", .private), ("fd12::1", .private), ("fec0::1", .private),
        ("feff::1", .private), ("fe80::1", .linkLocal), ("febf::1", .linkLocal), ("ff02::1", .multicast),
        ("169.254.169.254", .metadata), ("169.254.170.2", .metadata), ("169.254.170.23", .metadata),
        ("169.254.0.23", .metadata), ("100.100.100.200", .metadata), ("168.63.129.16", .metadata),
        ("192.0.0.192", .metadata), ("fd00:ec2::254", .metadata), ("fd00:ec2::23", .metadata), ("fd20:ce::254", .metadata),
    ]

    /// Blocks the registries mark globally reachable, and ordinary addresses.
    static let global: [String] = [
        "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.0.0.9", "192.0.0.10", "192.31.196.1", "192.52.193.1",
        "192.175.48.1", "198.20.0.1", "223.255.255.255", "2001:4860:4860::8888", "2001:1::1", "2001:3::1",
        "2001:4:112::1", "2001:20::1", "2620:4f:8000::1", "64:ff9b::808:808", "2002:808:808::1",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  // Teredo: server 65.54.227.120, client 8.8.8.8 (inverted)
    ]

    @Test(arguments: embedded + special)
    func theStrictestClass(address: String, expected: AddressClass) throws {
        #expect(AddressClass(try SocketAddress(ipAddress: address, port: 1)) == expected, "\(address)")
    }

    @Test(arguments: global)
    func globalAddresses(address: String) throws {
        let classes = try #require(AddressClasses(try SocketAddress(ipAddress: address, port: 1)))
        #expect(classes == AddressClasses(.global), "\(address): \(classes)")
    }

    /// Defect 11: 0.0.0.0 and :: are unspecified and reach this host; a rule naming either set matches them.
    @Test func theUnspecifiedAddressIsLoopbackToo() throws {
        for address in ["0.0.0.0", "::", "::ffff:0.0.0.0"] {
            let classes = try #require(AddressClasses(try SocketAddress(ipAddress: address, port: 1)))
            #expect(classes.contains(.loopback) && classes.contains(.unspecified), "\(address): \(classes)")
            let host = SOCKSEndpoint(try SocketAddress(ipAddress: address, port: 1)).host
            #expect(AddressMatcher(parsing: "loopback")?.matches(host) == true)
            #expect(AddressMatcher(parsing: "unspecified")?.matches(host) == true)
        }
    }

    /// A protected class denies every member, so the metadata address inside NAT64 is denied by default,
    /// and an embedded global address is not.
    @Test func theNetworkFacingPolicyDeniesEveryRoute() throws {
        for (address, expected) in Self.embedded + Self.special {
            let denial = DestinationPolicy.networkFacing.denial(of: try SocketAddress(ipAddress: address, port: 80))
            #expect(denial == .protected(expected), "\(address)")
        }
        for address in Self.global {
            #expect(DestinationPolicy.networkFacing.permits(try SocketAddress(ipAddress: address, port: 80)), "\(address)")
        }
    }

    /// A listener on the unspecified address faces every network, whatever its class as a destination.
    @Test func aWildcardListenerIsNotALoopbackListener() throws {
        #expect(!DestinationPolicy.isLoopbackListener(try SocketAddress(ipAddress: "0.0.0.0", port: 1080)))
        #expect(!DestinationPolicy.isLoopbackListener(try SocketAddress(ipAddress: "::", port: 1080)))
        #expect(DestinationPolicy.isLoopbackListener(try SocketAddress(ipAddress: "127.0.0.2", port: 1080)))
        #expect(DestinationPolicy.isLoopbackListener(try SocketAddress(ipAddress: "::1", port: 1080)))
    }
}
