import NIOCore
import SOCKSCore

/// Which destination addresses a listener's sessions may reach. The safe default for a listener that faces a
/// network denies loopback, private, link-local, metadata, multicast and unspecified destinations; a
/// loopback listener's clients are local, so it allows them. Checked on the resolved address just before a
/// connect or a datagram, so that a name cannot lead around it.
public struct DestinationPolicy: Hashable, Sendable {
    public var denied: Set<AddressClass>

    public init(denied: Set<AddressClass>) {
        self.denied = denied
    }

    public static let allowAll = DestinationPolicy(denied: [])
    public static let networkFacing = DestinationPolicy(denied: [.loopback, .private, .linkLocal, .metadata, .multicast, .unspecified])

    public func permits(_ address: SocketAddress) -> Bool {
        guard !self.denied.isEmpty else { return true }
        guard let addressClass = AddressClass(address) else { return false }
        return !self.denied.contains(addressClass)
    }

    /// Whether a listener on `address` faces only this host.
    public static func isLoopbackListener(_ address: SocketAddress) -> Bool {
        AddressClass(address) == .loopback
    }
}
