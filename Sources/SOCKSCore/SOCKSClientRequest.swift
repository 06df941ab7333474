/// A client's request after its handshake, whatever the protocol version: what the server must do.
public struct SOCKSClientRequest: Hashable, Sendable {
    /// The protocol the request came in; it decides the shape of every reply.
    public enum Version: Hashable, Sendable, CustomStringConvertible {
        case socks4
        case socks4a
        case socks5

        public var description: String {
            switch self {
            case .socks4: return "4"
            case .socks4a: return "4a"
            case .socks5: return "5"
            }
        }
    }

    /// The command, unified over SOCKS4 (CD) and SOCKS5 (CMD).
    public enum Command: Hashable, Sendable, CustomStringConvertible {
        case connect
        case bind
        case udpAssociate
        /// A code neither protocol defines; the server answers "command not supported".
        case unknown(UInt8)

        public var description: String {
            switch self {
            case .connect: return "connect"
            case .bind: return "bind"
            case .udpAssociate: return "udp-associate"
            case .unknown(let code): return "cmd-0x\(String(code, radix: 16))"
            }
        }
    }

    public var version: Version
    public var command: Command
    public var destination: SOCKSEndpoint
    /// SOCKS4's USERID; `nil` for SOCKS5.
    public var userID: String?

    public init(version: Version, command: Command, destination: SOCKSEndpoint, userID: String? = nil) {
        self.version = version
        self.command = command
        self.destination = destination
        self.userID = userID
    }
}

extension SOCKSClientRequest {
    init(_ request: SOCKS4Request) {
        let command: Command
        switch request.command {
        case .connect: command = .connect
        case .bind: command = .bind
        default: command = .unknown(request.command.rawValue)
        }
        self.init(
            version: request.isSOCKS4a ? .socks4a : .socks4,
            command: command,
            destination: request.destination,
            userID: request.userID
        )
    }

    init(_ request: SOCKS5Request) {
        let command: Command
        switch request.command {
        case .connect: command = .connect
        case .bind: command = .bind
        case .udpAssociate: command = .udpAssociate
        default: command = .unknown(request.command.rawValue)
        }
        self.init(version: .socks5, command: command, destination: request.destination)
    }
}
