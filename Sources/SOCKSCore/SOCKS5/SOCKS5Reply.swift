import NIOCore

/// A SOCKS5 reply: `VER=5 | REP | RSV | ATYP | BND.ADDR | BND.PORT`.
public struct SOCKS5Reply: Hashable, Sendable {
    public var code: SOCKS5ReplyCode
    public var bound: SOCKSEndpoint

    public init(code: SOCKS5ReplyCode, bound: SOCKSEndpoint = .unspecified) {
        self.code = code
        self.bound = bound
    }
}

extension ByteBuffer {
    public mutating func readSOCKS5Reply() throws -> SOCKS5Reply? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x05 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS5 reply with version \(version)")
            }
            guard let code = buffer.readInteger(as: UInt8.self),
                buffer.readInteger(as: UInt8.self) != nil,
                let bound = try buffer.readSOCKS5Endpoint()
            else { return nil }
            return SOCKS5Reply(code: SOCKS5ReplyCode(rawValue: code), bound: bound)
        }
    }

    @discardableResult
    public mutating func writeSOCKS5Reply(_ reply: SOCKS5Reply) -> Int {
        self.writeInteger(UInt8(0x05)) + self.writeInteger(reply.code.rawValue) + self.writeInteger(UInt8(0))
            + self.writeSOCKS5Endpoint(reply.bound)
    }
}
