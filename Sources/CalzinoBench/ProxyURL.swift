import NIOCore
import SOCKSCore

/// Where the benchmark sends its load: straight to the targets, or through a SOCKS5 proxy given as
/// `socks5://[user:pass@]host:port`.
public enum BenchRoute: Sendable, Equatable, CustomStringConvertible {
    case direct
    case socks5(address: SocketAddress, username: String?, password: String?)

    public static func parse(_ text: String) throws -> BenchRoute {
        if text == "direct" { return .direct }
        let prefix = "socks5://"
        guard text.hasPrefix(prefix) else {
            throw BenchError("'\(text)': expected direct or socks5://[user:pass@]host:port")
        }
        var rest = Substring(text.dropFirst(prefix.count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = credentials.firstIndex(of: ":") else {
                throw BenchError("'\(text)': credentials must be user:pass")
            }
            username = String(credentials[..<colon])
            password = String(credentials[credentials.index(after: colon)...])
            guard (1...255).contains(username?.utf8.count ?? 0), (1...255).contains(password?.utf8.count ?? 0) else {
                throw BenchError("'\(text)': user and password must each be 1 to 255 bytes")
            }
        }
        guard let parts = HostPortText.split(rest), let port = Int(parts.port), (1...65535).contains(port) else {
            throw BenchError("'\(text)': expected host:port with a port from 1 to 65535")
        }
        var host = String(parts.host)
        if host == "localhost" { host = "127.0.0.1" }
        guard let address = try? SocketAddress(ipAddress: host, port: port) else {
            throw BenchError("'\(text)': '\(host)' is not an IP address")
        }
        return .socks5(address: address, username: username, password: password)
    }

    public var description: String {
        switch self {
        case .direct: return "direct"
        case .socks5(let address, let username, _):
            return "socks5://\(username.map { "\($0):***@" } ?? "")\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}

public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
