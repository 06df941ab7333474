import CalzinoPolicy
import NIOCore
import SOCKSCore

/// Which datagrams arriving at an association's client socket are the client's, and what they ask for
/// (RFC 1928 section 7). Pure: the association owns the sockets and the counters.
///
/// A datagram counts only from the client's IP address (an IPv4-mapped form is the IPv4 address) and, when
/// the client declared a port in its request, from that port; with port 0 declared (allowed only under
/// `udp-client-port: first`), the first datagram's port is pinned. The header must
/// parse, and FRAG must be 0 (this server does not reassemble).
struct UDPClientGate: Hashable, Sendable {
    enum Verdict: Hashable, Sendable {
        /// From the client: send `payload` to `destination`.
        case forward(destination: SOCKSEndpoint, payload: ByteBuffer)
        /// From another address or port.
        case foreign
        case malformed
        case fragment
    }

    let clientHost: SOCKSHost
    /// The client's port: declared, or pinned by its first datagram; `nil` until then.
    private(set) var clientPort: Int?

    init(client: SocketAddress, declared: SOCKSEndpoint) {
        self.clientHost = SOCKSEndpoint(client).host.unmapped
        self.clientPort = declared.port == 0 ? nil : Int(declared.port)
    }

    mutating func admit(_ datagram: ByteBuffer, from source: SocketAddress) -> Verdict {
        guard SOCKSEndpoint(source).host.unmapped == self.clientHost else {
            return .foreign
        }
        if let port = self.clientPort {
            guard source.port == port else { return .foreign }
        } else {
            self.clientPort = source.port
        }
        var data = datagram
        guard let header = try? data.readSOCKSUDPHeader() else {
            return .malformed
        }
        guard header.fragment == 0 else {
            return .fragment
        }
        return .forward(destination: header.endpoint, payload: data)
    }
}
