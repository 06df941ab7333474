/// The CMD field of a SOCKS5 request. Open, so that an unknown code can be held and answered 0x07.
public struct SOCKS5Command: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let connect = SOCKS5Command(rawValue: 0x01)
    public static let bind = SOCKS5Command(rawValue: 0x02)
    public static let udpAssociate = SOCKS5Command(rawValue: 0x03)

    public var description: String {
        switch self {
        case .connect: return "connect"
        case .bind: return "bind"
        case .udpAssociate: return "udp-associate"
        default: return "cmd-0x\(String(self.rawValue, radix: 16))"
        }
    }
}
