import NIOCore

/// How Calzino writes a socket address everywhere people read one (the access log, listener names for
/// rules, `check-config`): `127.0.0.1:1080`, `[::1]:1080`.
package enum AddressText {
    package static func format(_ address: SocketAddress) -> String {
        switch address {
        case .v4: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: return "unix"
        }
    }
}
