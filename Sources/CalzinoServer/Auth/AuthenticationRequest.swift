import NIOCore
import SOCKSCore

/// What a client offers to prove who it is, one case per method.
enum AuthenticationRequest: Sendable {
    /// RFC 1929: a user name and password.
    case usernamePassword(SOCKS5UsernamePasswordRequest)
    /// RFC 1413: a SOCKS4 request whose USERID the client's identd must confirm; `client` and `server` are
    /// the two ends of the client connection.
    case ident(SOCKSClientRequest, client: SocketAddress, server: SocketAddress)
}
