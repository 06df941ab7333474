import NIOCore
import SOCKSCore

/// Parses a bare IP address, IPv6 with or without brackets: `203.0.113.5`, `2001:db8::1`, `[2001:db8::1]`.
public enum IPAddressValue {
    /// The address with port 0, or `nil` if `text` is not an IP address.
    public static func parse(_ text: String) -> SocketAddress? {
        try? SocketAddress(ipAddress: String(HostPortText.unbracketed(text)), port: 0)
    }
}
