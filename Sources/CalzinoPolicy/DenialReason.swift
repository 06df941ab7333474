/// What refused a request, a destination, a BIND peer or a datagram. Typed so that the server can count and
/// log it without parsing; `description` is the text the access line shows after `rule=` and `denied by`.
public enum DenialReason: Hashable, Sendable, CustomStringConvertible {
    /// A deny rule, by its name.
    case rule(String)
    /// No rule matched and the default action is deny.
    case defaultAction
    /// The address is in a class the listener protects, and no allow rule named it.
    case protected(AddressClass)
    /// A SOCKS4 request (no password) on a listener with users, and the allowing rule does not name SOCKS4.
    case socks4NeedsRule
    /// A UDP ASSOCIATE that names no client port, where the server takes datagrams only from a declared
    /// port (`udp-client-port: declared`).
    case udpPortUndeclared
    /// The destination is not an IP address (a Unix socket address): nothing a policy can classify.
    case notIP
    /// The rules could not decide with every field known. Cannot happen with the rule model of today; kept so
    /// that the policy fails closed if it ever does.
    case undecided

    public var description: String {
        switch self {
        case .rule(let name): return name
        case .defaultAction: return "default"
        case .protected(let addressClass): return "protected:\(addressClass)"
        case .socks4NeedsRule: return "socks4-needs-rule"
        case .udpPortUndeclared: return "udp-port-undeclared"
        case .notIP: return "not-ip"
        case .undecided: return "undecided"
        }
    }
}
