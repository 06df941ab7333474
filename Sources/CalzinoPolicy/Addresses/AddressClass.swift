import NIOCore
import SOCKSCore

/// The kinds of destination address that a proxy facing a network must not reach unless a rule says so.
///
/// An address can belong to several classes (`AddressClasses`): 169.254.169.254 is metadata and link-local,
/// 0.0.0.0 is unspecified and reaches this host (so loopback), and an IPv6 address that embeds an IPv4
/// address (NAT64, 6to4, Teredo, IPv4-compatible or -translated) is also in the embedded address's classes.
/// A rule naming a class matches every member; a protected class denies every member. Where one class must
/// be named (a denial, a test), it is the strictest, in the order of `allCases`.
public enum AddressClass: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Cloud metadata services (AWS, GCP, Azure, Alibaba, Oracle and the clouds that share 169.254.169.254).
    case metadata
    /// 127.0.0.0/8, ::1, and the unspecified addresses 0.0.0.0 and ::, which a connect sends to this host.
    case loopback
    /// 169.254.0.0/16 and fe80::/10.
    case linkLocal
    /// RFC 1918, the shared address space 100.64.0.0/10, unique local fc00::/7, site-local fec0::/10, the
    /// local-use NAT64 prefix: addresses that only mean something inside one network.
    case `private`
    case multicast
    /// 0.0.0.0/8 ("this network") and ::.
    case unspecified
    /// Every other special-purpose block that no global host has: documentation, benchmarking, reserved
    /// (240.0.0.0/4), the limited broadcast 255.255.255.255, IETF protocol assignments, discard-only.
    case reserved
    /// Everything else.
    case global

    public var description: String {
        switch self {
        case .metadata: return "metadata"
        case .loopback: return "loopback"
        case .linkLocal: return "link-local"
        case .private: return "private"
        case .multicast: return "multicast"
        case .unspecified: return "unspecified"
        case .reserved: return "reserved"
        case .global: return "global"
        }
    }

    /// The strictest class of an address host; `nil` for a name (classify its resolved addresses instead).
    public init?(_ host: SOCKSHost) {
        guard let classes = AddressClasses(host) else { return nil }
        self = classes.strictest
    }

    public init?(_ address: SocketAddress) {
        guard let classes = AddressClasses(address) else { return nil }
        self = classes.strictest
    }
}
