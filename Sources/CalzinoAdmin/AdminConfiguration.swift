import CalzinoServer
import NIOCore

/// Where the admin listener listens and who may ask it. The same "no open door" rule as the SOCKS
/// listeners: an address other than loopback needs a bearer token.
public struct AdminConfiguration: Sendable {
    public var address: SocketAddress
    /// Required in `Authorization: Bearer TOKEN` on every request when set.
    public var token: String?

    public init(address: SocketAddress, token: String? = nil) {
        self.address = address
        self.token = token
    }

    /// Refuses an admin listener that would show sessions and metrics to a network without a token.
    public func validate() throws {
        guard self.token == nil, !Self.isLoopback(self.address) else { return }
        throw AdminConfigurationError(
            address: "\(self.address)",
            problem: "an admin listener that is not on loopback needs a bearer token (admin.token-file)"
        )
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4): return v4.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6: return address.ipAddress == "::1"
        case .unixDomainSocket: return true
        }
    }
}

/// A refused admin configuration: the address and why.
public struct AdminConfigurationError: Error, CustomStringConvertible {
    public var address: String
    public var problem: String

    public var description: String { "admin \(self.address): \(self.problem)" }
}
