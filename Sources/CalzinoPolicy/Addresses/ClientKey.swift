import NIOCore
import SOCKSCore

/// Whom a per-client limit (`sessions-per-client`, `handshakes-per-client-per-second`) counts: one IPv4
/// address, also when a dual-stack listener sees it IPv4-mapped (`::ffff:a.b.c.d`), or one IPv6 network of
/// `ipv6Prefix` bits. The default, /64, is what one subscriber or host is usually given: keyed by the full
/// address, one client would hold 2^64 quotas. No text is formatted to build a key.
public struct ClientKey: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable {
        case ipv4(UInt32)
        case ipv6(SOCKSIPv6Address, prefix: Int)
        /// A Unix socket peer or none: all of them are one client.
        case unknown
    }

    private let value: Value

    public static let defaultIPv6Prefix = 64
    /// The bounds of `limits.client-ipv6-prefix`.
    public static let ipv6PrefixRange = 1...128

    public init(_ address: SocketAddress?, ipv6Prefix: Int = ClientKey.defaultIPv6Prefix) {
        switch address {
        case .some(let address) where address.protocol == .inet || address.protocol == .inet6:
            self.init(SOCKSEndpoint(address).host, ipv6Prefix: ipv6Prefix)
        default:
            self.init(SOCKSHost.name(""))
        }
    }

    public init(_ host: SOCKSHost, ipv6Prefix: Int = ClientKey.defaultIPv6Prefix) {
        switch host.unmapped {
        case .ipv4(let address):
            self.value = .ipv4(address)
        case .ipv6(let address):
            let prefix = min(max(ipv6Prefix, 0), 128)
            self.value = .ipv6(address.masked(toPrefix: prefix), prefix: prefix)
        case .name:
            self.value = .unknown
        }
    }

    public var description: String {
        switch self.value {
        case .ipv4(let address): return SOCKSHost.ipv4(address).description
        case .ipv6(let network, let prefix):
            let bracketed = SOCKSHost.ipv6(network).description  // "[2001:db8::]"
            return "\(bracketed.dropFirst().dropLast())/\(prefix)"
        case .unknown: return "-"
        }
    }
}
