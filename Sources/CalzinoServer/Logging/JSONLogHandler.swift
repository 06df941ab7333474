import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler that writes one JSON object per line to standard error (`--log-format json`): `time`,
/// `level`, `label`, `message`, then the metadata as fields (the access line's fields, `session` on every
/// line about a session). Valid JSON whatever the values hold: strings are escaped here (quotes,
/// backslashes, every control character), numbers stay numbers.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.metadata
        if let extra = event.metadata {
            fields.merge(extra) { $1 }
        }
        var line = "{\"time\":" + Self.string(Self.timestamp())
        line += ",\"level\":" + Self.string(event.level.rawValue)
        line += ",\"label\":" + Self.string(self.label)
        line += ",\"message\":" + Self.string("\(event.message)")
        for key in fields.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            if let value = fields[key] {
                line += "," + Self.string(key) + ":" + Self.value(value)
            }
        }
        self.write(line + "}\n")
    }

    /// Writes whole lines to standard error, one writer at a time.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        lock.withLock {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
                if written < 0, errno == EINTR || errno == EAGAIN {
                    continue  // interrupted, or a non-blocking stderr that is full: the rest of the line still goes
                }
                guard written > 0 else { return }  // standard error closed: nothing more can be said
                offset += written
            }
        }
    }

    private static let lock = NIOLock()

    static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return Self.string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger: return "\(number)"
            case let number as Double where number.isFinite: return "\(number)"
            case let flag as Bool: return flag ? "true" : "false"
            default: return Self.string(convertible.description)
            }
        case .dictionary(let dictionary):
            let members = dictionary.keys.sorted().compactMap { key in dictionary[key].map { Self.string(key) + ":" + Self.value($0) } }
            return "{" + members.joined(separator: ",") + "}"
        case .array(let array):
            return "[" + array.map(Self.value).joined(separator: ",") + "]"
        }
    }

    /// A JSON string: `"` and `\` escaped, every control character (C0, DEL, C1) as `\uXXXX`, line and
    /// paragraph separators too (JavaScript's own parsers choke on them); everything else as it is.
    static func string(_ text: String) -> String {
        var escaped = "\""
        CommonEscapes.escape(text, into: &escaped) { scalar in
            let value = scalar.value
            guard value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 else { return nil }
            return "\\u" + CommonEscapes.hex(value, digits: 4)
        }
        return escaped + "\""
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let milliText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(milliText)Z"
    }
}
