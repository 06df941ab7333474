/// A destination port or an inclusive range of them: `443`, `8000-8999`.
public struct PortRange: Hashable, Sendable, CustomStringConvertible {
    public let lower: UInt16
    public let upper: UInt16

    public init?(lower: Int, upper: Int) {
        guard (0...65535).contains(lower), (0...65535).contains(upper), lower <= upper else { return nil }
        self.lower = UInt16(lower)
        self.upper = UInt16(upper)
    }

    /// `nil` unless `text` is a port or `low-high` with both in 0...65535 and low ≤ high.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let low = Int(parts[0]) else { return nil }
        if parts.count == 2 {
            guard let high = Int(parts[1]) else { return nil }
            self.init(lower: low, upper: high)
        } else {
            self.init(lower: low, upper: low)
        }
    }

    public func contains(_ port: UInt16) -> Bool {
        (self.lower...self.upper).contains(port)
    }

    public var description: String {
        self.lower == self.upper ? "\(self.lower)" : "\(self.lower)-\(self.upper)"
    }
}
