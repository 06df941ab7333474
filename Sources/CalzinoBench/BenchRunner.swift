#if canImport(Glibc)
import Glibc
#endif
import CalzinoServer
import NIOCore
import NIOPosix

/// Runs the benchmark scenarios against one route and collects their figures.
public final class BenchRunner: Sendable {
    private let configuration: BenchConfiguration
    private let group: MultiThreadedEventLoopGroup

    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    /// Runs every configured scenario. `progress` receives a line as each one starts.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> BenchResult {
        FileDescriptorLimit.raiseSoftToHard()
        let targets = try await BenchTargets.start(group: self.group)
        let opener = TunnelOpener(route: self.configuration.route, group: self.group, sourceHosts: ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"])
        var result = BenchResult()
        do {
            for scenario in self.configuration.scenarios {
                progress("\(self.configuration.route): \(scenario.rawValue)")
                switch scenario {
                case .throughput: try await self.throughput(opener: opener, targets: targets, into: &result)
                case .rate: try await self.rate(opener: opener, targets: targets.echo, prefix: "rate", targetCloses: false, into: &result)
                case .rateTargetCloses:
                    try await self.rate(opener: opener, targets: targets.echoThenClose, prefix: "rate_target_close", targetCloses: true, into: &result)
                case .latency: try await self.latency(opener: opener, targets: targets, into: &result)
                case .idle: try await self.idle(opener: opener, targets: targets, into: &result)
                }
            }
        } catch {
            await targets.stop()
            try? await self.group.shutdownGracefully()
            throw error
        }
        await targets.stop()
        try? await self.group.shutdownGracefully()
        return result
    }

    // MARK: Scenarios

    private func throughput(opener: TunnelOpener, targets: BenchTargets, into result: inout BenchResult) async throws {
        let bytes = self.configuration.bytes
        for (name, tunnels) in [("1", 1), ("\(self.configuration.parallelTunnels)", self.configuration.parallelTunnels)] {
            for direction in ["up", "down"] {
                let share = bytes / tunnels
                let channels = try await self.openTunnels(tunnels, to: direction == "up" ? targets.sink : targets.source, opener: opener)
                let sample = try await self.measure {
                    var futures: [EventLoopFuture<Void>] = []
                    for channel in channels {
                        let done = channel.eventLoop.makePromise(of: Void.self)
                        futures.append(done.futureResult)
                        try await channel.eventLoop.submit {
                            let handler: any ChannelHandler = direction == "up" ? BulkUpload(count: share, done: done) : BulkDownload(count: share, done: done)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }.get()
                    }
                    try await EventLoopFuture.andAllSucceed(futures, on: self.group.any()).get()
                }
                for channel in channels { try? await channel.close() }
                let megabytes = Double(share * tunnels) / 1_000_000
                result.record("throughput_\(name)x_\(direction)_MBps", megabytes / sample.seconds)
                self.recordCPU(sample, prefix: "throughput_\(name)x_\(direction)", units: megabytes, unitName: "MB", into: &result)
            }
        }
    }

    private func rate(opener: TunnelOpener, targets: [SocketAddress], prefix: String, targetCloses: Bool, into result: inout BenchResult) async throws {
        let seconds = self.configuration.rateSeconds
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        let loops = Array(self.group.makeIterator())
        let workerCount = self.configuration.rateWorkers
        var outcomes: [(samples: [Int64], failures: Int)] = []
        let sample = try await self.measure {
            var futures: [EventLoopFuture<(samples: [Int64], failures: Int)>] = []
            for index in 0..<workerCount {
                let loop = loops[index % loops.count]
                futures.append(loop.flatSubmit {
                    RateWorker(opener: opener, targets: targets, eventLoop: loop, deadline: deadline, index: index, targetCloses: targetCloses).run()
                })
            }
            outcomes = try await EventLoopFuture.whenAllSucceed(futures, on: self.group.any()).get()
        }
        let samples = outcomes.flatMap(\.samples)
        let failures = outcomes.reduce(0) { $0 + $1.failures }
        result.record("\(prefix)_sessions_per_s", Double(samples.count) / sample.seconds)
        result.record("\(prefix)_sessions", Double(samples.count))
        result.record("\(prefix)_failures", Double(failures))
        result.record("\(prefix)_cycle_p50_us", Percentiles.micros(samples, 0.5))
        result.record("\(prefix)_cycle_p99_us", Percentiles.micros(samples, 0.99))
        result.countFailures(failures)
        self.recordCPU(sample, prefix: prefix, units: Double(samples.count), unitName: "session", into: &result)
    }

    private func latency(opener: TunnelOpener, targets: BenchTargets, into result: inout BenchResult) async throws {
        guard let target = targets.echo.first else { return }
        let channel = try await opener.open(to: target, index: 0).get()
        let rounds = self.configuration.pingRounds
        var samples: [Int64] = []
        let sample = try await self.measure {
            let done = channel.eventLoop.makePromise(of: [Int64].self)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(PingPong(rounds: rounds + rounds / 10, done: done))
            }.get()
            // The first tenth warms up caches and the scheduler and is left out.
            samples = Array(try await done.futureResult.get().dropFirst(rounds / 10))
        }
        try? await channel.close()
        result.record("latency_p50_us", Percentiles.micros(samples, 0.5))
        result.record("latency_p99_us", Percentiles.micros(samples, 0.99))
        self.recordCPU(sample, prefix: "latency", units: Double(samples.count), unitName: "round", into: &result)
    }

    private func idle(opener: TunnelOpener, targets: BenchTargets, into result: inout BenchResult) async throws {
        // This process holds both ends when direct, and the client end plus the target end when proxied.
        let capacity = max(0, (FileDescriptorLimit.current() - 256) / 2)
        let count = min(self.configuration.idleTunnels, capacity)
        result.record("idle_tunnels_requested", Double(self.configuration.idleTunnels))
        let pids = ProcStat.withDescendants(self.configuration.proxyPIDs)
        func proxyRSS() -> Int { pids.reduce(0) { $0 + ProcStat.residentKiB(pid: "\($1)") } }
        let before = proxyRSS()
        let channels = try await self.openTunnels(count, to: targets.echo, opener: opener)
        try await Task.sleep(nanoseconds: 500_000_000)
        let held = proxyRSS()
        // Every tunnel must still carry a byte both ways.
        var verified = 0
        for batch in stride(from: 0, to: channels.count, by: 512) {
            var futures: [EventLoopFuture<Void>] = []
            for channel in channels[batch..<min(batch + 512, channels.count)] {
                let done = channel.eventLoop.makePromise(of: Void.self)
                futures.append(done.futureResult)
                channel.eventLoop.execute {
                    do {
                        try channel.pipeline.syncOperations.addHandler(EchoExchange(size: 1, done: done))
                    } catch {
                        done.fail(error)
                    }
                }
            }
            for future in futures where (try? await future.get()) != nil {
                verified += 1
            }
        }
        for channel in channels { channel.close(promise: nil) }
        result.record("idle_tunnels", Double(count))
        result.record("idle_verified", Double(verified))
        result.countFailures(count - verified)
        if !pids.isEmpty {
            result.record("idle_proxy_rss_before_KiB", Double(before))
            result.record("idle_proxy_rss_held_KiB", Double(held))
            result.record("idle_KiB_per_tunnel", count > 0 ? Double(held - before) / Double(count) : .nan)
        }
    }

    // MARK: Helpers

    /// Opens `count` tunnels, at most 256 handshakes at a time, spread over `targets`.
    private func openTunnels(_ count: Int, to targets: [SocketAddress], opener: TunnelOpener) async throws -> [any Channel] {
        var channels: [any Channel] = []
        channels.reserveCapacity(count)
        for batch in stride(from: 0, to: count, by: 256) {
            let futures = (batch..<min(batch + 256, count)).map { index in
                opener.open(to: targets[index % targets.count], index: index)
            }
            for future in futures {
                channels.append(try await future.get())
            }
        }
        return channels
    }

    struct Sample {
        var seconds: Double
        var coreBusy: [Double]
        var ownCPUSeconds: Double
        var proxyCPUSeconds: Double?
    }

    /// Times `body` and reads, around it, every core's busy share and the CPU time of this process and of
    /// the proxy's processes.
    private func measure(_ body: () async throws -> Void) async throws -> Sample {
        let pids = ProcStat.withDescendants(self.configuration.proxyPIDs)
        let cores = ProcStat.coreTimes()
        let own = ProcStat.cpuSeconds()
        let proxy = pids.reduce(0.0) { $0 + ProcStat.cpuSeconds(pid: "\($1)") }
        let started = NIODeadline.now()
        try await body()
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let coresAfter = ProcStat.coreTimes()
        let proxyCPU: Double?
        if let core = self.configuration.proxyCore, core >= 0, core < cores.busy.count, core < coresAfter.busy.count {
            proxyCPU = Double(coresAfter.busy[core] &- cores.busy[core]) / ProcStat.ticksPerSecond
        } else if !pids.isEmpty {
            let after = ProcStat.withDescendants(self.configuration.proxyPIDs).reduce(0.0) { $0 + ProcStat.cpuSeconds(pid: "\($1)") }
            proxyCPU = after - proxy
        } else {
            proxyCPU = nil
        }
        return Sample(
            seconds: seconds,
            coreBusy: coresAfter.busyShare(since: cores),
            ownCPUSeconds: ProcStat.cpuSeconds() - own,
            proxyCPUSeconds: proxyCPU
        )
    }

    private func recordCPU(_ sample: Sample, prefix: String, units: Double, unitName: String, into result: inout BenchResult) {
        result.record("\(prefix)_seconds", sample.seconds)
        for (core, share) in sample.coreBusy.enumerated() {
            result.record("\(prefix)_cpu\(core)_busy_pct", share * 100)
        }
        result.record("\(prefix)_loadgen_cpu_pct", sample.ownCPUSeconds / sample.seconds * 100)
        if let proxy = sample.proxyCPUSeconds {
            result.record("\(prefix)_proxy_cpu_pct", proxy / sample.seconds * 100)
            if units > 0 {
                result.record("\(prefix)_proxy_cpu_us_per_\(unitName)", proxy / units * 1e6)
            }
        }
    }

}
