/// The CD field of a SOCKS4 request. Open, so that an unknown code can be held and refused.
public struct SOCKS4Command: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let connect = SOCKS4Command(rawValue: 0x01)
    public static let bind = SOCKS4Command(rawValue: 0x02)

    public var description: String {
        switch self {
        case .connect: return "connect"
        case .bind: return "bind"
        default: return "cmd-0x\(String(self.rawValue, radix: 16))"
        }
    }
}
