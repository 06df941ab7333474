import NIOCore

/// Parses a duration: a number with an optional unit, `ms`, `s` (the default), `m` or `h`: `10`, `2.5s`,
/// `500ms`, `5m`, `1h`. Values are bounded (at most 30 days) so that nothing overflows downstream.
public enum DurationValue {
    public static let maximumSeconds: Double = 30 * 24 * 3600

    public static func parse(_ text: String) throws -> TimeAmount {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw ConfigurationValueError(value: text, problem: "expected a duration such as 10s, 500ms, 5m or 1h")
        }
        let seconds = value * scale
        guard seconds <= Self.maximumSeconds else {
            throw ConfigurationValueError(value: text, problem: "longer than 30 days")
        }
        return .nanoseconds(Int64((seconds * 1_000_000_000).rounded()))
    }

    /// The duration written back in the largest unit that keeps it whole.
    public static func format(_ amount: TimeAmount) -> String {
        guard amount != .zero else { return "0" }
        let nanoseconds = amount.nanoseconds
        for (unit, scale) in [("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000)] where nanoseconds % scale == 0 {
            return "\(nanoseconds / scale)\(unit)"
        }
        return "\(nanoseconds / 1_000_000)ms"
    }
}
