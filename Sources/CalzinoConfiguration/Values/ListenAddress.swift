import NIOCore
import SOCKSCore

/// Parses a listen address: `127.0.0.1:1080`, `[::1]:1080`, `0.0.0.0:1080`, `[::]:1080`, or
/// `localhost:1080` (both loopback addresses). Names other than `localhost` are refused: a listener's address
/// should not depend on DNS at start-up.
public enum ListenAddress {
    public static func parse(_ text: String) throws -> [SocketAddress] {
        guard let parts = HostPortText.split(text) else {
            throw ConfigurationValueError(value: text, problem: "expected HOST:PORT, for example 127.0.0.1:1080 or [::1]:1080")
        }
        guard let port = UInt16(parts.port) else {
            throw ConfigurationValueError(value: text, problem: "the port must be a number from 0 to 65535")
        }
        let host = String(parts.host)
        if !parts.bracketed, host.contains(":") {
            throw ConfigurationValueError(value: text, problem: "write an IPv6 address in brackets: [::1]:\(port)")
        }
        if host == "localhost" {
            return try ["127.0.0.1", "::1"].map { try SocketAddress(ipAddress: $0, port: Int(port)) }
        }
        do {
            return [try SocketAddress(ipAddress: host, port: Int(port))]
        } catch {
            throw ConfigurationValueError(value: text, problem: "'\(host)' is not an IP address (or localhost)")
        }
    }
}
