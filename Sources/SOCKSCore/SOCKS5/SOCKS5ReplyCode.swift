/// The REP field of a SOCKS5 reply.
public struct SOCKS5ReplyCode: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let succeeded = SOCKS5ReplyCode(rawValue: 0x00)
    public static let generalFailure = SOCKS5ReplyCode(rawValue: 0x01)
    public static let notAllowedByRuleset = SOCKS5ReplyCode(rawValue: 0x02)
    public static let networkUnreachable = SOCKS5ReplyCode(rawValue: 0x03)
    public static let hostUnreachable = SOCKS5ReplyCode(rawValue: 0x04)
    public static let connectionRefused = SOCKS5ReplyCode(rawValue: 0x05)
    public static let ttlExpired = SOCKS5ReplyCode(rawValue: 0x06)
    public static let commandNotSupported = SOCKS5ReplyCode(rawValue: 0x07)
    public static let addressTypeNotSupported = SOCKS5ReplyCode(rawValue: 0x08)

    public var description: String {
        "0x" + (self.rawValue < 0x10 ? "0" : "") + String(self.rawValue, radix: 16, uppercase: true)
    }
}
