import NIOCore

/// Anything the server sends during a handshake.
public enum SOCKSServerMessage: Hashable, Sendable {
    case socks5MethodSelection(SOCKS5MethodSelection)
    case socks5Reply(SOCKS5Reply)
    case socks4Reply(SOCKS4Reply)
    case usernamePasswordResponse(SOCKS5UsernamePasswordResponse)

    /// The reply code as the access log shows it (`0x00`, `0x5A`, `0xFF` for a refused greeting).
    public var codeDescription: String {
        switch self {
        case .socks5MethodSelection(let selection): return selection.method.description
        case .socks5Reply(let reply): return reply.code.description
        case .socks4Reply(let reply): return reply.code.description
        case .usernamePasswordResponse(let response): return "auth-0x\(String(response.status, radix: 16))"
        }
    }
}

extension ByteBuffer {
    @discardableResult
    public mutating func writeSOCKSServerMessage(_ message: SOCKSServerMessage) -> Int {
        switch message {
        case .socks5MethodSelection(let selection): return self.writeSOCKS5MethodSelection(selection)
        case .socks5Reply(let reply): return self.writeSOCKS5Reply(reply)
        case .socks4Reply(let reply): return self.writeSOCKS4Reply(reply)
        case .usernamePasswordResponse(let response): return self.writeSOCKS5UsernamePasswordResponse(response)
        }
    }
}
