/// Which datagrams arriving at an association's outbound sockets go back to the client (issue 12, defect
/// 13).
public enum UDPReplies: String, Hashable, Sendable, CaseIterable {
    /// Only from an address and port the association has sent to ("address and port restricted"): nobody
    /// who learns the outbound port can inject datagrams into the client. Protocols whose answer comes
    /// from another address or port (some STUN and peer-to-peer uses) need `any`.
    case sentTo = "sent-to"
    /// From anyone ("full cone"), as RFC 1928 leaves it.
    case any
}
