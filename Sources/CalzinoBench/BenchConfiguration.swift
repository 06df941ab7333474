/// What `calzino bench` measures and how hard.
public struct BenchConfiguration: Sendable {
    public enum Scenario: String, CaseIterable, Sendable {
        // Idle first: it reads the proxy's resident memory, which earlier loads would inflate.
        case idle, throughput, rate
        /// The connection rate with the target closing first, right after its echo (the client waits for
        /// the proxy to pass the close on, then closes): the order of a server that hangs up, as HTTP/1.0
        /// or a short RPC does, and the one an independent load generator measured.
        case rateTargetCloses = "rate-target-close"
        case latency
    }

    public var route: BenchRoute = .direct
    /// The proxy's processes (their children are found and counted too), for its CPU time and memory.
    public var proxyPIDs: [Int32] = []
    /// The core the proxy is pinned to: its busy time is the proxy's CPU time. Process CPU times miss the
    /// work of children that exit during a measurement (Dante forks), so the core is the better witness.
    public var proxyCore: Int?
    public var scenarios: [Scenario] = Scenario.allCases
    /// Bytes moved up, then down, through one tunnel; the parallel run splits the same total.
    public var bytes: Int = 2 << 30
    public var parallelTunnels: Int = 8
    public var rateSeconds: Double = 10
    public var rateWorkers: Int = 64
    public var pingRounds: Int = 10_000
    public var idleTunnels: Int = 10_000
    public var threads: Int = 2

    public init() {}

    /// A seconds-long run for CI: every scenario, tiny sizes. It checks for errors, never for speed.
    public static func smoke(route: BenchRoute) -> BenchConfiguration {
        var configuration = BenchConfiguration()
        configuration.route = route
        configuration.bytes = 8 << 20
        configuration.parallelTunnels = 4
        configuration.rateSeconds = 1
        configuration.rateWorkers = 8
        configuration.pingRounds = 200
        configuration.idleTunnels = 200
        return configuration
    }
}
