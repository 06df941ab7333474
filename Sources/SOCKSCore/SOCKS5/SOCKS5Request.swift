import NIOCore

/// A SOCKS5 request: `VER=5 | CMD | RSV | ATYP | DST.ADDR | DST.PORT`.
public struct SOCKS5Request: Hashable, Sendable {
    public var command: SOCKS5Command
    public var destination: SOCKSEndpoint

    public init(command: SOCKS5Command, destination: SOCKSEndpoint) {
        self.command = command
        self.destination = destination
    }
}

extension ByteBuffer {
    /// Reads a request, version byte included. RSV is not checked: RFC 1928 gives it no meaning, and a
    /// lenient reader costs nothing here.
    public mutating func readSOCKS5Request() throws -> SOCKS5Request? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x05 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS5 request with version \(version)")
            }
            guard let command = buffer.readInteger(as: UInt8.self),
                buffer.readInteger(as: UInt8.self) != nil,
                let destination = try buffer.readSOCKS5Endpoint()
            else { return nil }
            return SOCKS5Request(command: SOCKS5Command(rawValue: command), destination: destination)
        }
    }

    @discardableResult
    public mutating func writeSOCKS5Request(_ request: SOCKS5Request) -> Int {
        self.writeInteger(UInt8(0x05)) + self.writeInteger(request.command.rawValue) + self.writeInteger(UInt8(0))
            + self.writeSOCKS5Endpoint(request.destination)
    }
}
