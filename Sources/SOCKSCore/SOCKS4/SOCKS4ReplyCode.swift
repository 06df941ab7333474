/// The CD field of a SOCKS4 reply.
public struct SOCKS4ReplyCode: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 90: request granted.
    public static let granted = SOCKS4ReplyCode(rawValue: 0x5A)
    /// 91: request rejected or failed.
    public static let rejectedOrFailed = SOCKS4ReplyCode(rawValue: 0x5B)
    /// 92: rejected because the server cannot connect to identd on the client.
    public static let identdUnreachable = SOCKS4ReplyCode(rawValue: 0x5C)
    /// 93: rejected because identd and the client reported different user ids.
    public static let identdMismatch = SOCKS4ReplyCode(rawValue: 0x5D)

    public var description: String { "0x" + String(self.rawValue, radix: 16, uppercase: true) }
}
