/// The figures of one benchmark run, in the order they were measured.
public struct BenchResult: Sendable {
    public private(set) var entries: [(key: String, value: Double)] = []
    public private(set) var failures: Int = 0

    public init() {}

    mutating func record(_ key: String, _ value: Double) {
        self.entries.append((key, value))
    }

    mutating func countFailures(_ count: Int) {
        self.failures += count
    }

    /// One flat JSON object, `{"key": value, ...}`, for scripts.
    public var json: String {
        let body = self.entries.map { "  \"\($0.key)\": \(Self.format($0.value))" }.joined(separator: ",\n")
        return "{\n\(body)\n}\n"
    }

    /// Aligned `key  value` lines for people.
    public var table: String {
        let width = self.entries.map(\.key.count).max() ?? 0
        return self.entries.map { entry in
            entry.key + String(repeating: " ", count: width - entry.key.count + 2) + Self.format(entry.value)
        }.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        // Two decimals for ordinary figures, four for small ones (seconds of a smoke run).
        let factor = abs(value) < 1 ? 10_000.0 : 100.0
        return "\((value * factor).rounded() / factor)"
    }
}
