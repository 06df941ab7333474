import NIOCore
import SOCKSCore

/// One ended session, as an embedder sees it: what the access line says, as values. Delivered to the
/// server's `sessionEnded` handler once per client connection, on the session's event loop (keep the
/// handler short, or hand the summary on).
public struct CalzinoSessionSummary: Sendable {
    public var client: SocketAddress?
    /// The authenticated or ident-confirmed user (never a password).
    public var user: String?
    /// The request, when the client got as far as sending one.
    public var request: SOCKSClientRequest?
    /// The destination connected to, or the BIND peer.
    public var connected: SocketAddress?
    /// The last reply sent (`nil`: closed without one).
    public var reply: SOCKSServerMessage?
    /// Which rule allowed or denied it (`default`, `protected:CLASS`...); `nil` without rules.
    public var rule: String?
    /// Why it ended early, as the access line's `error=` says; `nil` for a session that ended normally.
    public var failure: String?
    /// Bytes relayed client to destination and back (for UDP ASSOCIATE, the datagrams' payloads).
    public var bytesUp: Int
    public var bytesDown: Int
    public var duration: TimeAmount
    /// The access-log line, as written.
    public var accessLine: String
}
