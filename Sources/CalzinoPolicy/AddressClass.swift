import NIOCore
import SOCKSCore

/// The kinds of destination address that a proxy facing a network must not reach unless a rule says so.
public enum AddressClass: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case loopback
    /// RFC 1918 and IPv6 unique local (fc00::/7).
    case `private`
    /// 169.254.0.0/16 and fe80::/10.
    case linkLocal
    /// Cloud metadata services: 169.254.169.254 and fd00:ec2::254.
    case metadata
    case multicast
    /// 0.0.0.0/8 and ::, which reach this host.
    case unspecified
    /// Everything else.
    case global

    public var description: String {
        switch self {
        case .loopback: return "loopback"
        case .private: return "private"
        case .linkLocal: return "link-local"
        case .metadata: return "metadata"
        case .multicast: return "multicast"
        case .unspecified: return "unspecified"
        case .global: return "global"
        }
    }

    /// The class of an address host; `nil` for a name (classify its resolved addresses instead).
    public init?(_ host: SOCKSHost) {
        switch host {
        case .ipv4(let address):
            self = Self.classify(ipv4: address)
        case .ipv6(let address):
            // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address it carries.
            if address.high == 0 && address.low >> 32 == 0xFFFF {
                self = Self.classify(ipv4: UInt32(truncatingIfNeeded: address.low))
            } else {
                self = Self.classify(ipv6: address)
            }
        case .name:
            return nil
        }
    }

    public init?(_ address: SocketAddress) {
        switch address {
        case .v4, .v6: self.init(SOCKSEndpoint(address).host)
        case .unixDomainSocket: return nil
        }
    }

    private static func classify(ipv4 address: UInt32) -> AddressClass {
        func within(_ network: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return address & mask == network & mask
        }
        if address == 0xA9FE_A9FE { return .metadata }  // 169.254.169.254
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .private }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        if within(0xE000_0000, 4) { return .multicast }
        if within(0x0000_0000, 8) { return .unspecified }
        return .global
    }

    private static func classify(ipv6 address: SOCKSIPv6Address) -> AddressClass {
        let top16 = address.high >> 48
        if address.high == 0 && address.low == 1 { return .loopback }
        if address.high == 0 && address.low == 0 { return .unspecified }
        if address.high == 0xFD00_0EC2_0000_0000 && address.low == 0x254 { return .metadata }  // fd00:ec2::254
        if top16 & 0xFE00 == 0xFC00 { return .private }
        if top16 & 0xFFC0 == 0xFE80 { return .linkLocal }
        if top16 & 0xFF00 == 0xFF00 { return .multicast }
        return .global
    }
}
