import NIOCore
import SOCKSCore

/// The ordered rule list and what happens when no rule matches.
///
/// Addresses in the protected classes (loopback, private, link-local, metadata, multicast, unspecified and
/// reserved on a listener that faces a network) pass only through an allow rule whose destination addresses name them
/// (a CIDR block or a set such as `private`): a rule that allows a name or a port does not open them, so a
/// name that resolves to one of them is denied.
public struct AccessRules: Sendable {
    public var rules: [AccessRule]
    public var defaultAction: AccessRule.Action

    public init(rules: [AccessRule] = [], defaultAction: AccessRule.Action = .allow) {
        self.rules = rules
        self.defaultAction = defaultAction
    }

    public var isEmpty: Bool { self.rules.isEmpty && self.defaultAction == .allow }

    public enum Verdict: Sendable {
        /// Allowed by `rule` (`nil`: by the default action).
        case allowed(by: AccessRule?)
        /// Denied, and what denied it: a rule, the default action, or a protected class that no rule named.
        case denied(DenialReason)
        /// A rule ahead of the decision looks at a destination not known yet: ask again with it.
        case undecided
    }

    /// The first matching rule's verdict for `request`; `protected` is the listener's protected classes.
    public func evaluate(_ request: AccessRequest, protected: Set<AddressClass>) -> Verdict {
        for rule in self.rules {
            switch rule.matches(request) {
            case .some(true):
                if rule.action == .deny {
                    return .denied(.rule(rule.name))
                }
                return Self.protectedGate(request, rule: rule, protected: protected) ?? .allowed(by: rule)
            case .some(false):
                continue
            case .none:
                return .undecided
            }
        }
        if self.defaultAction == .deny {
            return .denied(.defaultAction)
        }
        return Self.protectedGate(request, rule: nil, protected: protected) ?? .allowed(by: nil)
    }

    /// The policy that asks these rules about each address a session's destination resolves to (or, for
    /// UDP, about each datagram's destination).
    public func destinationPolicy(for request: AccessRequest, protected: Set<AddressClass>) -> DestinationPolicy {
        if self.isEmpty {
            return .denying(protected)
        }
        return DestinationPolicy { address, name in
            var resolved = request
            resolved.destinationName = name
            resolved.destinationAddress = SOCKSEndpoint(address).host
            resolved.destinationPort = address.port.map { UInt16(clamping: $0) }
            switch self.evaluate(resolved, protected: protected) {
            case .allowed(let rule): return .permitted(by: rule)
            case .denied(let reason): return .denied(reason)
            case .undecided: return .denied(.undecided)  // cannot happen with every destination field set
            }
        }
    }

    private static func protectedGate(_ request: AccessRequest, rule: AccessRule?, protected: Set<AddressClass>) -> Verdict? {
        guard !protected.isEmpty, let address = request.destinationAddress,
            let addressClass = AddressClasses(address)?.strictest(in: protected)
        else { return nil }
        if rule?.destinationAddresses != nil {
            return nil  // the rule matched, so it names this address explicitly
        }
        return .denied(.protected(addressClass))
    }
}
