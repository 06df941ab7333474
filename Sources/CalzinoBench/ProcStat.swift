import CalzinoServer

#if canImport(Glibc)
import Glibc
#endif

/// Readings from /proc: per-core busy time, a process's CPU time and resident memory.
public enum ProcStat {
    /// Jiffies per core: (busy, total).
    public struct CoreTimes: Sendable {
        public var busy: [UInt64]
        public var total: [UInt64]

        /// The share of each core that was busy between `earlier` and `self`, 0...1.
        public func busyShare(since earlier: CoreTimes) -> [Double] {
            zip(zip(self.busy, earlier.busy), zip(self.total, earlier.total)).map { busy, total in
                let dTotal = total.0 &- total.1
                return dTotal == 0 ? 0 : Double(busy.0 &- busy.1) / Double(dTotal)
            }
        }
    }

    public static let ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))

    public static func readFile(_ path: String) -> String? {
        TextFile.read(path)
    }

    public static func coreTimes() -> CoreTimes {
        var busy: [UInt64] = []
        var total: [UInt64] = []
        for line in (readFile("/proc/stat") ?? "").split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            guard fields.count >= 5 else { continue }
            let all = fields.reduce(0, &+)
            let idle = fields[3] &+ fields[4]  // idle + iowait
            busy.append(all &- idle)
            total.append(all)
        }
        return CoreTimes(busy: busy, total: total)
    }

    /// User plus system CPU seconds of a process (`self` for this one).
    public static func cpuSeconds(pid: String = "self") -> Double {
        guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based, whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticksPerSecond
    }

    /// Resident memory of a process in KiB (VmRSS).
    public static func residentKiB(pid: String) -> Int {
        guard let status = readFile("/proc/\(pid)/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// `pids` and all their descendants (Dante forks workers), read from /proc.
    public static func withDescendants(_ pids: [Int32]) -> [Int32] {
        var parentOf: [Int32: Int32] = [:]
        if let dir = opendir("/proc") {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard let pid = Int32(name), let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, let ppid = Int32(fields[1]) {
                    parentOf[pid] = ppid
                }
            }
        }
        var result = Set(pids)
        var changed = true
        while changed {
            changed = false
            for (pid, ppid) in parentOf where result.contains(ppid) && !result.contains(pid) {
                result.insert(pid)
                changed = true
            }
        }
        return result.sorted()
    }
}
