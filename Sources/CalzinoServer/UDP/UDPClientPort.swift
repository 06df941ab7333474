/// Which source port an association accepts its client's datagrams from (issue 12, defect 3).
///
/// The client's IP address must always match its control connection's. The port is the question: a port
/// the client does not name is known only from a datagram, and pinning the first one lets any other socket
/// on the same IP (another user of the host, another host behind the same NAT) that sends first capture the
/// association: it gets the replies, and the owner's datagrams are dropped.
public enum UDPClientPort: String, Hashable, Sendable, CaseIterable {
    /// The request must name the port the client will send from (DST.PORT != 0, as PySocks and Calzino's
    /// client do); a request with port 0 is refused with 0x02. Nobody can race the owner. A client behind
    /// a NAT that rewrites ports cannot use it: its datagrams arrive from another port and are dropped.
    case declared
    /// A named port is enforced; with port 0 the first datagram's port is pinned. Works behind any NAT; a
    /// sender on the client's IP that is quicker than the client can capture the association.
    case first
}
