import NIOCore
import SOCKSCore

/// Which peer a BIND accepts, and where it listens for it. Pure: built from the addresses DST names (one,
/// or each address of a name) and the address the client reached the server on.
struct BindPeerCheck: Hashable, Sendable {
    /// The hosts a peer may come from; `nil` admits any (DST 0.0.0.0 or ::).
    let expectedHosts: Set<SOCKSHost>?
    /// The expected peer's address whose route picks the listening address; `nil` when any peer is admitted.
    let routeTowards: SocketAddress?

    init(expecting peers: [SocketAddress]) {
        let hosts = Set(peers.map { SOCKSEndpoint($0).host }.filter { $0 != .unspecifiedIPv4 && $0 != .unspecifiedIPv6 })
        self.expectedHosts = hosts.isEmpty ? nil : hosts
        self.routeTowards = peers.first { hosts.contains(SOCKSEndpoint($0).host) }
    }

    /// Whether a connection from `peer` is the one the client is waiting for.
    func admits(_ peer: SocketAddress?) -> Bool {
        guard let expected = self.expectedHosts else { return true }
        return peer.map { expected.contains(SOCKSEndpoint($0).host) } ?? false
    }

    /// Where to listen: the address this host would use to reach the expected peer or, when any peer is
    /// admitted, the address the client reached the server on (port 0: the kernel picks).
    func listeningAddress(clientReached local: SocketAddress?) -> SocketAddress? {
        if let peer = self.routeTowards {
            return EgressAddress.towards(peer)
        }
        return local.flatMap { try? SocketAddress(ipAddress: $0.ipAddress ?? "", port: 0) }
    }
}
