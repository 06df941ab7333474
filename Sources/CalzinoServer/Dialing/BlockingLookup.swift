import NIOCore

/// The blocking name lookup a `ConcurrentResolver` runs on its worker thread: the system's `getaddrinfo`, or,
/// in tests, one that really blocks its thread for a slow name (an unfulfilled promise would block nothing).
public struct BlockingLookup: Sendable {
    /// The addresses of a name for TCP: IPv4 first, IPv6 second.
    public typealias Addresses = ([SocketAddress], [SocketAddress])

    let run: @Sendable (_ host: String, _ port: Int) -> Result<Addresses, ResolutionError>

    public init(_ run: @escaping @Sendable (_ host: String, _ port: Int) -> Result<Addresses, ResolutionError>) {
        self.run = run
    }

    /// `getaddrinfo(AF_UNSPEC)`, one call for both families.
    public static let system = BlockingLookup { ConcurrentResolver.getaddrinfoLookup(host: $0, port: $1) }
}
