import ArgumentParser
import CalzinoBench
import CalzinoServer
import NIOCore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a SOCKS5 proxy (or a direct connection) on loopback.",
        discussion: """
            Starts its own echo, sink and source targets on 127.0.0.2-5 and measures, through --proxy or \
            directly: throughput through 1 and --parallel tunnels, up then down; the connection rate of \
            --workers concurrent connect/CONNECT/64-byte-echo/close loops, with the client closing first, then \
            with the target closing first (rate-target-close); 1-byte ping-pong latency; and how \
            many idle tunnels can be held (with the proxy's memory per tunnel when --proxy-pid is given). \
            Every measurement records each core's busy share, this process's CPU, and the proxy's CPU.
            Sizes take K, M or G (powers of 1024).
            """
    )

    @Option(help: ArgumentHelp("direct, or socks5://[user:pass@]host:port.", valueName: "route"))
    var proxy: String = "direct"

    @Option(name: .customLong("proxy-pid"), help: ArgumentHelp("A process of the proxy (repeatable; children count too).", valueName: "pid"))
    var proxyPIDs: [Int32] = []

    @Option(help: ArgumentHelp("The core the proxy is pinned to (taskset): its busy time counts as the proxy's CPU time, which process times miss for forking proxies.", valueName: "n"))
    var proxyCPU: Int?

    @Option(help: ArgumentHelp("Scenarios to run, comma-separated: idle, throughput, rate, rate-target-close, latency (idle first: it reads the proxy's memory).", valueName: "list"))
    var scenarios: String = "idle,throughput,rate,rate-target-close,latency"

    @Option(help: ArgumentHelp("Bytes up, then down, through one tunnel (and split over the parallel ones).", valueName: "size"))
    var bytes: String = "2G"

    @Option(help: ArgumentHelp("Tunnels in the parallel throughput run.", valueName: "n"))
    var parallel: Int = 8

    @Option(help: ArgumentHelp("Seconds of the connection-rate run.", valueName: "seconds"))
    var rateSeconds: Double = 10

    @Option(help: ArgumentHelp("Concurrent connection-rate workers.", valueName: "n"))
    var workers: Int = 64

    @Option(help: ArgumentHelp("Ping-pong round trips in the latency run.", valueName: "n"))
    var pings: Int = 10_000

    @Option(help: ArgumentHelp("Idle tunnels to open and hold (capped by the descriptor limit).", valueName: "n"))
    var idleTunnels: Int = 10_000

    @Option(help: ArgumentHelp("Event-loop threads of the load generator (default: one per core).", valueName: "n"))
    var threads: Int?

    @Flag(help: "A seconds-long run of every scenario with tiny sizes, for CI: it fails on errors, never on speed.")
    var smoke = false

    @Option(help: ArgumentHelp("Also write the figures as one JSON object to this file.", valueName: "path"))
    var json: String?

    func makeConfiguration() throws -> BenchConfiguration {
        let route: BenchRoute
        do {
            route = try BenchRoute.parse(self.proxy)
        } catch {
            throw ValidationError("--proxy \(error)")
        }
        var configuration = self.smoke ? BenchConfiguration.smoke(route: route) : BenchConfiguration()
        configuration.route = route
        configuration.proxyPIDs = self.proxyPIDs
        configuration.proxyCore = self.proxyCPU
        configuration.threads = self.threads ?? System.coreCount
        configuration.scenarios = try self.scenarios.split(separator: ",").map { name in
            guard let scenario = BenchConfiguration.Scenario(rawValue: String(name)) else {
                throw ValidationError("--scenarios: '\(name)' is not one of idle, throughput, rate, rate-target-close, latency")
            }
            return scenario
        }
        guard !self.smoke else { return configuration }
        guard let bytes = Self.size(self.bytes), bytes > 0 else {
            throw ValidationError("--bytes: '\(self.bytes)' is not a size such as 512M or 2G")
        }
        guard (1...1024).contains(self.parallel), (1...4096).contains(self.workers), (1...10_000_000).contains(self.pings),
            (0...1_000_000).contains(self.idleTunnels), self.rateSeconds > 0, self.rateSeconds <= 3600
        else {
            throw ValidationError("--parallel 1-1024, --workers 1-4096, --pings 1-10000000, --idle-tunnels 0-1000000, --rate-seconds up to 3600")
        }
        configuration.bytes = bytes
        configuration.parallelTunnels = self.parallel
        configuration.rateSeconds = self.rateSeconds
        configuration.rateWorkers = self.workers
        configuration.pingRounds = self.pings
        configuration.idleTunnels = self.idleTunnels
        return configuration
    }

    static func size(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[last] {
            guard let value = Int(text.dropLast()) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            return overflow ? nil : product
        }
        return Int(text)
    }

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads: must be from 1 to 256")
        }
        if let proxyCPU, !(0...4095).contains(proxyCPU) {
            throw ValidationError("--proxy-cpu: must be a core number from 0")
        }
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let runner = BenchRunner(configuration: configuration)
        let result = try await runner.run { line in
            print("# \(line)")
        }
        print(result.table)
        if let json = self.json {
            try JSONFile.write(result.json, to: json)
        }
        if result.failures > 0 {
            print("# \(result.failures) failures")
            throw ExitCode.failure
        }
    }
}
