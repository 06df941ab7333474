import NIOCore

/// A host and a port: a request's destination or a reply's bound address.
public struct SOCKSEndpoint: Hashable, Sendable {
    public var host: SOCKSHost
    public var port: UInt16

    public init(host: SOCKSHost, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// 0.0.0.0:0, the address a failure reply carries.
    public static let unspecified = SOCKSEndpoint(host: .unspecifiedIPv4, port: 0)
}

extension SOCKSEndpoint: CustomStringConvertible {
    public var description: String { "\(self.host):\(self.port)" }
}

extension SOCKSEndpoint {
    /// The endpoint of a socket address; a Unix-domain address (which has no place in SOCKS) becomes
    /// ``unspecified``.
    public init(_ address: SocketAddress) {
        let port = UInt16(clamping: address.port ?? 0)
        switch address {
        case .v4(let v4):
            self.init(host: .ipv4(UInt32(bigEndian: v4.address.sin_addr.s_addr)), port: port)
        case .v6(let v6):
            var bytes = v6.address.sin6_addr
            let (high, low) = withUnsafeBytes(of: &bytes) { raw in
                (
                    raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self).bigEndian,
                    raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian
                )
            }
            self.init(host: .ipv6(SOCKSIPv6Address(high: high, low: low)), port: port)
        case .unixDomainSocket:
            self = .unspecified
        }
    }

    /// The socket address of an endpoint whose host is an address; `nil` for a name.
    public var socketAddress: SocketAddress? {
        var packed = ByteBuffer()
        switch self.host {
        case .ipv4(let address):
            packed.writeInteger(address)
        case .ipv6(let address):
            packed.writeInteger(address.high)
            packed.writeInteger(address.low)
        case .name:
            return nil
        }
        return try? SocketAddress(packedIPAddress: packed, port: Int(self.port))
    }
}
