import CalzinoPolicy
import SOCKSCore

/// Why a session ended without its relay, or why its relay ended early: typed where it happens, turned
/// into text once, in the access line (`error="…"`).
///
/// The first failure a session meets is the one it keeps (`SessionRecord.recordFailure`): a deadline that
/// answers a slow dial says "handshake timeout", not the dial error that may follow it.
enum SessionFailure: Hashable, Sendable, CustomStringConvertible {
    /// The handshake answered with a failure reply (a malformed request, no acceptable method...).
    case refused(SOCKSFailureCause)
    /// The peer does not speak SOCKS: closed without a reply.
    case notSOCKS(SOCKSProtocolError)
    case authenticationFailed
    case ident(IdentFailure)
    /// A rule, the default action or a protected class denied the request, its destination or its peer.
    case denied(DenialReason)
    /// A session limit was full: `max-sessions 10`, `sessions-per-client 2`, `sessions-per-user 1`.
    case limitReached(String)
    /// Every address the destination resolved to was denied; `detail` names the destination.
    case destinationDenied(DenialReason, detail: String)
    /// The dial failed. `detail` is the error's own text, taken where it was caught.
    case connectFailed(SOCKSFailureCause, detail: String)
    /// A socket of the request (BIND listener, UDP association, relay wiring) could not be set up.
    case setupFailed(detail: String)
    /// The client connection failed (a reset, a read error).
    case connectionError(detail: String)
    case handshakeTimeout
    case bindPeerTimeout
    case clientLeftBeforeBindPeer
    case idleTimeout
    case udpIdleTimeout

    /// What an RFC 1413 check found.
    enum IdentFailure: Hashable, Sendable {
        /// identd named another user than the request.
        case mismatch(identd: String, request: String)
        /// identd answered ERROR.
        case errorAnswer(String)
        /// No usable answer, with ident required.
        case noAnswer
    }

    /// What denied the session, when a denial ended it.
    var denial: DenialReason? {
        switch self {
        case .denied(let reason), .destinationDenied(let reason, _): return reason
        case .refused, .notSOCKS, .authenticationFailed, .ident, .limitReached, .connectFailed, .setupFailed, .connectionError,
            .handshakeTimeout, .bindPeerTimeout, .clientLeftBeforeBindPeer, .idleTimeout, .udpIdleTimeout:
            return nil
        }
    }

    var description: String {
        switch self {
        case .refused(let cause): return "\(cause)"
        case .notSOCKS(let error): return "\(error)"
        case .authenticationFailed: return "authentication failed"
        case .ident(.mismatch(let identd, let request)): return "ident: identd says '\(identd)', the request says '\(request)'"
        case .ident(.errorAnswer(let reason)): return "ident: identd answered ERROR \(reason)"
        case .ident(.noAnswer): return "ident: no answer from identd"
        case .denied(let reason): return "denied by \(reason)"
        case .limitReached(let limit): return "limit \(limit) reached"
        case .destinationDenied(_, let detail): return detail
        case .connectFailed(_, let detail): return detail
        case .setupFailed(let detail): return detail
        case .connectionError(let detail): return detail
        case .handshakeTimeout: return "handshake timeout"
        case .bindPeerTimeout: return "no BIND peer within the deadline"
        case .clientLeftBeforeBindPeer: return "client left before the BIND peer"
        case .idleTimeout: return "idle timeout"
        case .udpIdleTimeout: return "udp idle timeout"
        }
    }
}
