/// An RFC 1928 authentication method code.
public struct SOCKS5AuthMethod: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noAuthenticationRequired = SOCKS5AuthMethod(rawValue: 0x00)
    public static let gssapi = SOCKS5AuthMethod(rawValue: 0x01)
    public static let usernamePassword = SOCKS5AuthMethod(rawValue: 0x02)
    public static let noAcceptableMethods = SOCKS5AuthMethod(rawValue: 0xFF)

    public var description: String { "0x" + String(self.rawValue, radix: 16, uppercase: true) }
}
