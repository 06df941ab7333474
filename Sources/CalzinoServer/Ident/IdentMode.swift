/// Whether SOCKS4 requests are checked with the client's identd (RFC 1413).
public enum IdentMode: String, Hashable, Sendable, CaseIterable {
    /// No query.
    case off
    /// Query; a USERID that differs from the request's is refused with 0x5D, no answer is accepted.
    case optional
    /// Query; no answer is refused with 0x5C, a differing USERID with 0x5D.
    case required
}
