import NIOCore
import SOCKSCore

/// Every class an address belongs to (see `AddressClass`). A bit set, so that classifying an address on the
/// datagram path allocates nothing.
public struct AddressClasses: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public init(_ addressClass: AddressClass) {
        self.init(rawValue: 1 << Self.bit(addressClass))
    }

    public init(_ classes: [AddressClass]) {
        self.init()
        for addressClass in classes {
            self.insert(AddressClasses(addressClass))
        }
    }

    /// The classes of an address host; `nil` for a name.
    public init?(_ host: SOCKSHost) {
        switch host {
        case .ipv4(let address): self = SpecialPurposeAddresses.classes(ofIPv4: address)
        case .ipv6(let address): self = SpecialPurposeAddresses.classes(ofIPv6: address)
        case .name: return nil
        }
    }

    public init?(_ address: SocketAddress) {
        switch address {
        case .v4, .v6: self.init(SOCKSEndpoint(address).host)
        case .unixDomainSocket: return nil
        }
    }

    public func contains(_ addressClass: AddressClass) -> Bool {
        self.contains(AddressClasses(addressClass))
    }

    /// The first member in `AddressClass.allCases` order; `global` for the empty set.
    public var strictest: AddressClass {
        AddressClass.allCases.first { self.contains($0) } ?? .global
    }

    /// The strictest member that `protected` holds, if any.
    public func strictest(in protected: Set<AddressClass>) -> AddressClass? {
        AddressClass.allCases.first { self.contains($0) && protected.contains($0) }
    }

    /// The union of `self` and an embedded IPv4 address's classes, where the stricter wins: `global` stays
    /// only when neither side has anything stricter.
    func embedding(_ embedded: AddressClasses) -> AddressClasses {
        let union = self.union(embedded)
        return union == .globalOnly ? union : union.subtracting(.globalOnly)
    }

    static let globalOnly = AddressClasses(.global)

    public var description: String {
        AddressClass.allCases.filter { self.contains($0) }.map(\.description).joined(separator: ",")
    }

    private static func bit(_ addressClass: AddressClass) -> UInt16 {
        UInt16(truncatingIfNeeded: AddressClass.allCases.firstIndex(of: addressClass) ?? 0)
    }
}
