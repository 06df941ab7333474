/// Reading an address a person wrote (`127.0.0.1:1080`, `[::1]:1080`, `[2001:db8::1]`): the one place the
/// project splits host from port and takes the brackets off an IPv6 host, for listen addresses, advertised
/// addresses and proxy URLs alike.
public enum HostPortText {
    /// `host` without the brackets around it, if it has them.
    public static func unbracketed<S: StringProtocol>(_ host: S) -> Substring {
        let text = Substring(host)
        guard text.count >= 2, text.hasPrefix("["), text.hasSuffix("]") else { return text }
        return text.dropFirst().dropLast()
    }

    /// `HOST:PORT` split at its last colon, the host unbracketed; `bracketed` says whether it was written
    /// in brackets (an IPv6 host must be, so that its own colons are not taken for the port's). `nil`
    /// without a colon.
    public static func split<S: StringProtocol>(_ text: S) -> (host: Substring, port: Substring, bracketed: Bool)? {
        let text = Substring(text)
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        let unbracketed = Self.unbracketed(host)
        return (unbracketed, text[text.index(after: colon)...], unbracketed.count != host.count)
    }
}
