import SOCKSCore

/// Why a SOCKS client request failed.
public struct SOCKSClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// The proxy accepts none of the offered methods (0xFF).
        case noAcceptableMethod
        /// RFC 1929 credentials were refused.
        case authenticationFailed
        /// The proxy answered the request with this failure code.
        case requestFailed(SOCKS5ReplyCode)
        /// The proxy closed the connection before the handshake ended.
        case closedEarly
    }

    public var code: Code

    public init(_ code: Code) {
        self.code = code
    }

    public var description: String {
        switch self.code {
        case .noAcceptableMethod: return "the proxy accepts none of the offered methods"
        case .authenticationFailed: return "the proxy refused the credentials"
        case .requestFailed(let reply): return "the proxy answered \(reply)"
        case .closedEarly: return "the proxy closed the connection during the handshake"
        }
    }
}
