import SOCKSCore

/// One entry of a rule's destination or client address list: a CIDR block or a named set of addresses.
public enum AddressMatcher: Hashable, Sendable, CustomStringConvertible {
    case range(AddressRange)
    case set(AddressClass)

    /// A CIDR block, or one of the names `loopback`, `private`, `link-local`, `metadata`, `multicast`,
    /// `unspecified`, `reserved`, `global`. A set matches every address that belongs to it (`AddressClasses`).
    public init?(parsing text: String) {
        if let set = AddressClass.allCases.first(where: { $0.description == text }) {
            self = .set(set)
        } else if let range = AddressRange(parsing: text) {
            self = .range(range)
        } else {
            return nil
        }
    }

    public func matches(_ host: SOCKSHost) -> Bool {
        switch self {
        case .range(let range): return range.contains(host)
        case .set(let set): return AddressClasses(host)?.contains(set) ?? false
        }
    }

    public var description: String {
        switch self {
        case .range(let range): return range.description
        case .set(let set): return set.description
        }
    }
}
