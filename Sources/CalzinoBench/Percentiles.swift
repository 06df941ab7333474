/// Nearest-rank percentiles of nanosecond samples, in microseconds.
enum Percentiles {
    static func micros(_ samples: [Int64], _ fraction: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[rank]) / 1000
    }
}
