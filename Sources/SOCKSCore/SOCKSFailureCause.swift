/// Why a request failed, in the server's words. ``socks5ReplyCode`` and ``socks4ReplyCode`` are the one
/// place where a cause becomes a wire code.
public enum SOCKSFailureCause: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case generalFailure
    case notAllowedByRuleset
    case networkUnreachable
    case hostUnreachable
    case nameNotResolved
    case connectTimeout
    case connectionRefused
    case ttlExpired
    case commandNotSupported
    case addressTypeNotSupported
    case malformedRequest
    case identdUnreachable
    case identdMismatch
    /// BIND: no peer connected before the deadline.
    case acceptTimeout
    /// BIND: a peer other than the one the client named connected.
    case unexpectedPeer

    /// The RFC 1928 REP code for this cause.
    public var socks5ReplyCode: SOCKS5ReplyCode {
        switch self {
        case .generalFailure, .malformedRequest, .identdUnreachable, .identdMismatch: return .generalFailure
        case .notAllowedByRuleset, .unexpectedPeer: return .notAllowedByRuleset
        case .networkUnreachable: return .networkUnreachable
        case .hostUnreachable, .nameNotResolved, .connectTimeout, .acceptTimeout: return .hostUnreachable
        case .connectionRefused: return .connectionRefused
        case .ttlExpired: return .ttlExpired
        case .commandNotSupported: return .commandNotSupported
        case .addressTypeNotSupported: return .addressTypeNotSupported
        }
    }

    /// The SOCKS4 CD code for this cause: SOCKS4 has one failure code, plus the two ident codes.
    public var socks4ReplyCode: SOCKS4ReplyCode {
        switch self {
        case .identdUnreachable: return .identdUnreachable
        case .identdMismatch: return .identdMismatch
        case .generalFailure, .notAllowedByRuleset, .networkUnreachable, .hostUnreachable, .nameNotResolved,
            .connectTimeout, .connectionRefused, .ttlExpired, .commandNotSupported, .addressTypeNotSupported,
            .malformedRequest, .acceptTimeout, .unexpectedPeer:
            return .rejectedOrFailed
        }
    }

    public var description: String {
        switch self {
        case .generalFailure: return "general-failure"
        case .notAllowedByRuleset: return "not-allowed"
        case .networkUnreachable: return "network-unreachable"
        case .hostUnreachable: return "host-unreachable"
        case .nameNotResolved: return "name-not-resolved"
        case .connectTimeout: return "connect-timeout"
        case .connectionRefused: return "connection-refused"
        case .ttlExpired: return "ttl-expired"
        case .commandNotSupported: return "command-not-supported"
        case .addressTypeNotSupported: return "address-type-not-supported"
        case .malformedRequest: return "malformed-request"
        case .identdUnreachable: return "identd-unreachable"
        case .identdMismatch: return "identd-mismatch"
        case .acceptTimeout: return "accept-timeout"
        case .unexpectedPeer: return "unexpected-peer"
        }
    }
}
