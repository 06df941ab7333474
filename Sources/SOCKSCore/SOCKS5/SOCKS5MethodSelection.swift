import NIOCore

/// The server's answer to a greeting: `VER=5 | METHOD`.
public struct SOCKS5MethodSelection: Hashable, Sendable {
    public var method: SOCKS5AuthMethod

    public init(method: SOCKS5AuthMethod) {
        self.method = method
    }
}

extension ByteBuffer {
    public mutating func readSOCKS5MethodSelection() throws -> SOCKS5MethodSelection? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x05 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS5 method selection with version \(version)")
            }
            guard let method = buffer.readInteger(as: UInt8.self) else { return nil }
            return SOCKS5MethodSelection(method: SOCKS5AuthMethod(rawValue: method))
        }
    }

    @discardableResult
    public mutating func writeSOCKS5MethodSelection(_ selection: SOCKS5MethodSelection) -> Int {
        self.writeInteger(UInt8(0x05)) + self.writeInteger(selection.method.rawValue)
    }
}
