import NIOCore

/// The client's first SOCKS5 message: `VER=5 | NMETHODS | METHODS`.
public struct SOCKS5Greeting: Hashable, Sendable {
    public var methods: [SOCKS5AuthMethod]

    public init(methods: [SOCKS5AuthMethod]) {
        self.methods = methods
    }
}

extension ByteBuffer {
    /// Reads a greeting, version byte included. NMETHODS = 0 reads as a greeting with no methods, which
    /// the server answers with 0xFF.
    public mutating func readSOCKS5Greeting() throws -> SOCKS5Greeting? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x05 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS5 greeting with version \(version)")
            }
            guard let count = buffer.readInteger(as: UInt8.self),
                let methods = buffer.readBytes(length: Int(count))
            else { return nil }
            return SOCKS5Greeting(methods: methods.map(SOCKS5AuthMethod.init(rawValue:)))
        }
    }

    /// Reads a greeting and picks the first of `accepted` that it offers, without building the method list:
    /// the server's path. `.some(nil)` means a complete greeting that offers none of them.
    public mutating func readSOCKS5GreetingSelecting(from accepted: [SOCKS5AuthMethod]) throws -> SOCKS5AuthMethod?? {
        try self.parseUnwindingIfNeeded { buffer -> SOCKS5AuthMethod?? in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x05 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS5 greeting with version \(version)")
            }
            guard let count = buffer.readInteger(as: UInt8.self), let offered = buffer.readSlice(length: Int(count)) else {
                return nil
            }
            let view = offered.readableBytesView
            return .some(accepted.first { view.contains($0.rawValue) })
        }
    }

    /// Writes a greeting; more than 255 methods are cut to 255.
    @discardableResult
    public mutating func writeSOCKS5Greeting(_ greeting: SOCKS5Greeting) -> Int {
        let methods = greeting.methods.prefix(255)
        var written = self.writeInteger(UInt8(0x05))
        written += self.writeInteger(UInt8(truncatingIfNeeded: methods.count))
        for method in methods {
            written += self.writeInteger(method.rawValue)
        }
        return written
    }
}
