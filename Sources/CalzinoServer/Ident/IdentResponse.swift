/// An RFC 1413 answer: `<port> , <port> : USERID : <opsys> : <user-id>` or `<port> , <port> : ERROR : <error>`.
public enum IdentResponse: Hashable, Sendable {
    case user(String)
    case error(String)

    /// The longest answer line RFC 1413 allows, terminator included.
    public static let maximumLine = 1000

    /// Parses one answer line (without its CR LF); `nil` for anything else, or an answer about other ports.
    public static func parse(_ line: Substring, clientPort: Int, serverPort: Int) -> IdentResponse? {
        let fields = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let ports = fields[0].split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard ports.count == 2, Int(ports[0]) == clientPort, Int(ports[1]) == serverPort else { return nil }
        switch fields[1].trimmingSpaces.uppercased() {
        case "USERID":
            guard fields.count == 4 else { return nil }
            // The user-id is everything after the third colon; RFC 1413 keeps its spaces but not leading ones.
            var user = fields[3]
            while user.first == " " { user = user.dropFirst() }
            while user.last == " " || user.last == "\r" { user = user.dropLast() }
            return .user(String(user))
        case "ERROR":
            return .error(String(fields[2].trimmingSpaces))
        default:
            return nil
        }
    }
}
