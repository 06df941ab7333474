import NIOCore

/// A destination or bound host as it travels on the wire: an IPv4 address, an IPv6 address or a name.
public enum SOCKSHost: Hashable, Sendable {
    /// Four address bytes, in network order, packed into an integer (0x7F000001 is 127.0.0.1).
    case ipv4(UInt32)
    /// Sixteen address bytes, in network order.
    case ipv6(SOCKSIPv6Address)
    /// A name the server resolves; never empty, at most 255 bytes of UTF-8.
    case name(String)

    /// The unspecified IPv4 address 0.0.0.0, used in failure replies.
    public static let unspecifiedIPv4 = SOCKSHost.ipv4(0)
    /// The unspecified IPv6 address ::.
    public static let unspecifiedIPv6 = SOCKSHost.ipv6(SOCKSIPv6Address(high: 0, low: 0))
}

/// An IPv6 address as two network-order halves, so that it is `Hashable` without allocating.
public struct SOCKSIPv6Address: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

extension SOCKSHost: CustomStringConvertible {
    public var description: String {
        switch self {
        case .ipv4(let address):
            return "\(address >> 24).\((address >> 16) & 0xFF).\((address >> 8) & 0xFF).\(address & 0xFF)"
        case .ipv6(let address):
            var buffer = ByteBuffer()
            buffer.writeInteger(address.high)
            buffer.writeInteger(address.low)
            if let socketAddress = try? SocketAddress(packedIPAddress: buffer, port: 0), let ip = socketAddress.ipAddress {
                return "[\(ip)]"
            }
            return "[?]"
        case .name(let name):
            return name
        }
    }
}
