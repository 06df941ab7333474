/// Parses a rate in bytes per second: a number with an optional unit `B`, `KB`, `KiB`, `MB`, `MiB`, `GB`,
/// `GiB` and an optional `/s`: `65536`, `512KiB`, `10MB/s`, `1.5MiB`. At least 1 KiB/s (a smaller bucket
/// could not hold one read) and at most 1 TiB/s.
public enum ByteRateValue {
    public static let minimum = 1024
    public static let maximum = 1 << 40

    public static func parse(_ text: String) throws -> Int {
        var body = Substring(text)
        if body.hasSuffix("/s") { body = body.dropLast(2) }
        let units: [(suffix: String, bytes: Double)] = [
            ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        var scale = 1.0
        for unit in units where body.hasSuffix(unit.suffix) {
            body = body.dropLast(unit.suffix.count)
            scale = unit.bytes
            break
        }
        guard let value = Double(body), value.isFinite, value > 0 else {
            throw ConfigurationValueError(value: text, problem: "expected a rate in bytes per second such as 512KiB, 10MB or 1048576")
        }
        let bytes = value * scale
        guard bytes >= Double(Self.minimum), bytes <= Double(Self.maximum) else {
            throw ConfigurationValueError(value: text, problem: "must be from 1KiB to 1TiB per second")
        }
        return Int(bytes.rounded())
    }

    /// The rate written back in the largest unit that keeps it whole.
    public static func format(_ bytes: Int) -> String {
        for (suffix, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return "\(bytes)"
    }
}
