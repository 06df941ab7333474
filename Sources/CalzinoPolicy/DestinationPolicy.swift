import NIOCore
import SOCKSCore

/// Which destination addresses a session may reach, asked of every resolved address just before a connect
/// or a datagram, so that a name cannot lead around it (no DNS rebinding). The safe default for a listener
/// that faces a network denies metadata, loopback, link-local, private, multicast, unspecified and
/// reserved destinations; a loopback listener's clients are local, so it allows them. With rules, a session's policy
/// asks the rules with the name the client gave and each address it resolved to.
public struct DestinationPolicy: Sendable {
    /// What the policy says of one address.
    public enum Decision: Sendable {
        /// Permitted; by this rule when rules decided (`nil`: no rules, or their default action), so that
        /// a session whose rule was undecided until now can apply its overrides and name it.
        case permitted(by: AccessRule?)
        case denied(DenialReason)
    }

    /// What the policy says of `address`, reached through `name` if any.
    public typealias Check = @Sendable (_ address: SocketAddress, _ name: String?) -> Decision

    private let check: Check?

    public init(_ check: @escaping Check) {
        self.check = check
    }

    private init() {
        self.check = nil
    }

    /// Permits everything, without a call per address.
    public static let allowAll = DestinationPolicy()

    /// Denies the addresses in `classes`.
    public static func denying(_ classes: Set<AddressClass>) -> DestinationPolicy {
        guard !classes.isEmpty else { return .allowAll }
        return DestinationPolicy { address, _ in
            guard let addressClasses = AddressClasses(address) else { return .denied(.notIP) }
            return addressClasses.strictest(in: classes).map { .denied(.protected($0)) } ?? .permitted(by: nil)
        }
    }

    /// The classes a listener facing a network protects unless a rule allows them.
    public static let protectedClasses: Set<AddressClass> = [.metadata, .loopback, .linkLocal, .private, .multicast, .unspecified, .reserved]

    public static let networkFacing = DestinationPolicy.denying(protectedClasses)

    public func decision(of address: SocketAddress, name: String? = nil) -> Decision {
        self.check?(address, name) ?? .permitted(by: nil)
    }

    /// Why `address` is denied, or `nil` if it is permitted.
    public func denial(of address: SocketAddress, name: String? = nil) -> DenialReason? {
        if case .denied(let reason) = self.decision(of: address, name: name) { return reason }
        return nil
    }

    public func permits(_ address: SocketAddress, name: String? = nil) -> Bool {
        self.denial(of: address, name: name) == nil
    }

    /// Whether a listener on `address` faces only this host. The unspecified address is loopback as a
    /// destination, but a listener on it faces every network.
    public static func isLoopbackListener(_ address: SocketAddress) -> Bool {
        guard let classes = AddressClasses(address) else { return false }
        return classes.contains(.loopback) && !classes.contains(.unspecified)
    }
}
