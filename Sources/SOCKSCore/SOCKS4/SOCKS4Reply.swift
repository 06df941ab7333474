import NIOCore

/// A SOCKS4 reply: `VN=0 | CD | DSTPORT | DSTIP`, always eight bytes.
public struct SOCKS4Reply: Hashable, Sendable {
    public var code: SOCKS4ReplyCode
    public var port: UInt16
    /// The IPv4 address, packed as in ``SOCKSHost/ipv4(_:)``.
    public var address: UInt32

    public init(code: SOCKS4ReplyCode, port: UInt16 = 0, address: UInt32 = 0) {
        self.code = code
        self.port = port
        self.address = address
    }

    /// A reply carrying a bound endpoint; SOCKS4 can only say IPv4, so any other host becomes 0.0.0.0
    /// (which tells a client to use the server's own address).
    public init(code: SOCKS4ReplyCode, bound: SOCKSEndpoint) {
        if case .ipv4(let address) = bound.host {
            self.init(code: code, port: bound.port, address: address)
        } else {
            self.init(code: code, port: bound.port, address: 0)
        }
    }
}

extension ByteBuffer {
    /// Reads a SOCKS4 reply. `nil` means more bytes are needed.
    public mutating func readSOCKS4Reply() throws -> SOCKS4Reply? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x00 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS4 reply with version \(version)")
            }
            guard let code = buffer.readInteger(as: UInt8.self),
                let port = buffer.readInteger(as: UInt16.self),
                let address = buffer.readInteger(as: UInt32.self)
            else { return nil }
            return SOCKS4Reply(code: SOCKS4ReplyCode(rawValue: code), port: port, address: address)
        }
    }

    @discardableResult
    public mutating func writeSOCKS4Reply(_ reply: SOCKS4Reply) -> Int {
        self.writeInteger(UInt8(0)) + self.writeInteger(reply.code.rawValue) + self.writeInteger(reply.port)
            + self.writeInteger(reply.address)
    }
}
