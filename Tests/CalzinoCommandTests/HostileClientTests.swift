import Foundation
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import CalzinoTestSupport
import Testing

/// The `calzino` binary under hostile clients and faults (docs/reliability.md): stalled handshakes, a
/// reader that never reads, descriptor exhaustion, resets, abuse of every field. Each measures the server
/// process itself through /proc. One test at a time: each loads the machine on purpose, and their wall-clock
/// bounds (the slowest session beside 2,000 stalled ones) would measure each other.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostileClientTests {
    /// One full session: CONNECT to an echo target, 64 bytes there and back.
    static func echoSession(proxyPort: Int, targetPort: Int) throws -> Bool {
        let payload = (0..<64).map { UInt8($0) }
        let socket = try Wire.openTunnel(proxyPort: proxyPort, targetPort: targetPort, payload: payload)
        defer { socket.close() }
        return try socket.receive(exactly: 64) == payload
    }

    /// 2,000 connections send one byte and stall; a well-behaved client alongside completes its sessions,
    /// and every stalled connection is closed at the handshake deadline.
    @Test func stalledHandshakesAreClosedAndOthersServed() async throws {
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start(["--handshake-timeout", "3s"])
        let targetPort = target.port
        let opened = Date()
        let stalled = try await onThread { () -> [RawSocket] in
            try (0..<2000).map { _ in
                let socket = try RawSocket(port: port, timeoutSeconds: 10)
                try socket.send([5])
                return socket
            }
        }
        let (served, slowest) = try await onThread { () -> (Int, Double) in
            var served = 0
            var slowest = 0.0
            for _ in 0..<50 {
                let start = Date()
                if try Self.echoSession(proxyPort: port, targetPort: targetPort) { served += 1 }
                slowest = max(slowest, Date().timeIntervalSince(start))
            }
            return (served, slowest)
        }
        #expect(served == 50, "every well-behaved session completes beside 2,000 stalled ones")
        #expect(slowest < 1, "none waits on the stalled ones: slowest \(slowest) s")
        let closed = try await onThread { stalled.filter { $0.waitForFIN() }.count }
        let elapsed = Date().timeIntervalSince(opened)
        #expect(closed == 2000, "every stalled connection is closed")
        #expect(elapsed < 12, "at the deadline (3 s), not later: \(elapsed) s")
        print("reliability: stalled handshakes: 50/50 served beside 2,000 stalled, slowest \(slowest) s; \(closed) closed \(elapsed) s after opening (deadline 3 s)")
        stalled.forEach { $0.close() }
        await ServeProcess.stop(server, log: log)
        await target.stop()
    }

    /// A client that reads nothing while its target sends 1 GiB: the server's memory stays within a few
    /// MiB of where it was, and the session completes once the client reads.
    @Test func slowReaderKeepsMemoryFlat() async throws {
        let total = 1 << 30
        let target = try await TestTarget.start(.source(count: total))
        let (server, log, port) = try await ServeProcess.start([])
        let probe = ProcessProbe(pid: server.processIdentifier)
        let targetPort = target.port
        // Warm up: one session, so that the event loops' own allocations are in the baseline.
        let warm = try await TestTarget.start(.echo)
        let warmPort = warm.port
        _ = try await onThread { try Self.echoSession(proxyPort: port, targetPort: warmPort) }
        let before = probe.residentKiB
        let socket = try await onThread { try Wire.openTunnel(proxyPort: port, targetPort: targetPort) }
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let stalledKiB = probe.residentKiB
        let received = try await onThread { () -> Int in
            defer { socket.close() }
            return try socket.drainCounting { _, _ in true }
        }
        #expect(received == total, "the session resumes and delivers everything")
        print("reliability: slow reader: RSS \(before) KiB before, \(stalledKiB) KiB with 1 GiB waiting; \(received) bytes delivered afterwards")
        #expect(stalledKiB - before < 4096, "resident memory grew \(stalledKiB - before) KiB while the reader stalled (\(before) → \(stalledKiB) KiB)")
        await ServeProcess.stop(server, log: log)
        await target.stop()
        await warm.stop()
    }

    /// Tunnels that moved bulk data and then idle hold no receive buffers: NIO used to keep the largest buffer
    /// each side had read into (up to four of 256 KiB) for as long as the tunnel lived, about 2 MiB per tunnel.
    /// One event loop, so that the free heap glibc keeps (8 MiB per arena) is spread over all the tunnels.
    @Test func idleTunnelsHoldNoBuffersAfterBulk() async throws {
        let tunnels = 100
        let chunk = TestPattern.bytes(from: 0, count: 256 << 10)
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start(["--threads", "1"])
        let probe = ProcessProbe(pid: server.processIdentifier)
        let targetPort = target.port
        _ = try await onThread { try Self.echoSession(proxyPort: port, targetPort: targetPort) }
        let sockets = try await onThread { try (0..<tunnels).map { _ in try Wire.openTunnel(proxyPort: port, targetPort: targetPort) } }
        try await Task.sleep(nanoseconds: 300_000_000)
        let opened = probe.residentKiB
        let echoed = try await onThread { () -> Bool in
            var same = true
            for socket in sockets {
                for _ in 0..<4 {
                    try socket.send(chunk)
                    same = try socket.receive(exactly: chunk.count) == chunk && same
                }
            }
            return same
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let idle = probe.residentKiB
        let perTunnel = (idle - opened) / tunnels
        print("reliability: \(tunnels) tunnels idle after 1 MiB each way: RSS \(opened) KiB → \(idle) KiB, \(perTunnel) KiB per tunnel")
        #expect(echoed, "every tunnel echoed its megabyte")
        // The README's figure is about 20 KiB; the margin (twice that) covers the noise of RSS over 100 tunnels.
        // Buffers kept for reuse would cost hundreds of KiB per tunnel.
        #expect(perTunnel <= 40, "each idle tunnel kept \(perTunnel) KiB after its bulk transfer (documented: about 20)")
        sockets.forEach { $0.close() }
        await ServeProcess.stop(server, log: log)
        await target.stop()
    }

    /// Under a descriptor limit of 100 (capacity 18 connections), 150 connections: the rest are closed at
    /// once, the log says so without flooding, the server does not spin, and it serves again once they close.
    @Test func descriptorExhaustionShedsCleanly() async throws {
        let target = try await TestTarget.start(.echo)
        let (server, log, port) = try await ServeProcess.start([], descriptorLimit: 100)
        let probe = ProcessProbe(pid: server.processIdentifier)
        let targetPort = target.port
        let held = try await onThread { () -> [RawSocket] in
            try (0..<150).map { _ in try RawSocket(port: port, timeoutSeconds: 5) }
        }
        let cpuBefore = probe.cpuTicks
        try await Task.sleep(nanoseconds: 2_000_000_000)
        let cpuTicks = probe.cpuTicks - cpuBefore
        // After 2 s, long before the handshake deadline (10 s), exactly the connections beyond the capacity
        // have ended (their FIN has arrived), and the admitted ones are still open.
        let endings = held.map { $0.receiveUntilEnd(waiting: false).ending }
        let shed = endings.filter { $0 == .fin }.count
        let open = endings.filter { $0 == .stillOpen }.count
        let startup = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let capacity = startup.components(separatedBy: "max-connections=").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect(capacity.map { $0 > 0 && $0 < 50 } == true, "the log states the capacity: \(String(describing: capacity))")
        #expect(open == capacity, "the admitted connections are still open: \(open)")
        #expect(shed == 150 - (capacity ?? 0), "every connection beyond the capacity was closed at once: \(shed) of 150")
        #expect(cpuTicks < 20, "no busy loop while saturated: \(cpuTicks) ticks of CPU in 2 s")
        #expect(server.isRunning)
        held.forEach { $0.close() }
        var servedAgain = false
        for _ in 0..<100 where !servedAgain {
            servedAgain = (try? await onThread { try Self.echoSession(proxyPort: port, targetPort: targetPort) }) == true
            if !servedAgain { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        #expect(servedAgain, "serves normally once connections close")
        print("reliability: descriptor limit 100: \(shed) of 150 shed, \(cpuTicks) CPU ticks (1/100 s) in 2 s saturated, served again: \(servedAgain)")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let warnings = text.components(separatedBy: "connection capacity reached").count - 1
        #expect(warnings >= 1 && warnings <= 2, "logged, not flooded: \(warnings) warnings")
        #expect(text.contains("descriptor-limit=100"))
        await ServeProcess.stop(server, log: log)
        await target.stop()
    }

    /// Targets that reset mid-transfer, clients that reset mid-transfer, targets that close at once: no
    /// descriptor outlives its session.
    @Test func resetsLeaveNoDescriptorBehind() async throws {
        let resetting = try await TestTarget.start { ResetAfterSending(count: 256 << 10) }
        let closing = try await TestTarget.start { CloseAtOnce() }
        let source = try await TestTarget.start(.source(count: 64 << 20))
        let (server, log, port) = try await ServeProcess.start([])
        let probe = ProcessProbe(pid: server.processIdentifier)
        let resettingPort = resetting.port, closingPort = closing.port, sourcePort = source.port
        // Warm up: one session, so that descriptors the process opens once, lazily, are in the baseline.
        try await onThread {
            let warm = try RawSocket(port: port)
            try warm.send(Wire.socks5Connect(port: closingPort))
            _ = try? warm.receiveUntilEOF()
            warm.close()
        }
        // The session's access line comes once both its connections are closed: then the baseline holds.
        #expect(await ConfigurationCommandTests.waitForLog(log, containing: "reply=0x"), "the warm-up session ended")
        let baseline = probe.openDescriptors
        let firstEndings = try await onThread {
            try (0..<30).map { _ -> (bytes: Int, ending: RawSocket.Ending) in
                // The target resets after 256 KiB: the client is reset too, after at most those bytes.
                let first = try Wire.openTunnel(proxyPort: port, targetPort: resettingPort)
                let (received, ending) = first.receiveUntilEnd()
                first.close()
                // The client resets mid-transfer.
                let second = try Wire.openTunnel(proxyPort: port, targetPort: sourcePort)
                _ = try second.receive(exactly: 100_000)
                second.reset()
                // The target accepts and closes at once: a success reply and an end, or a failure reply if
                // the close overtook the connect; the connection ends either way.
                let third = try RawSocket(port: port)
                try third.send(Wire.socks5Connect(port: closingPort))
                _ = try? third.receiveUntilEOF()
                third.close()
                return (received.count, ending)
            }
        }
        for (received, ending) in firstEndings {
            #expect(received <= 256 << 10)
            #expect(ending == .reset, "the target's reset reached the client as a reset, not \(ending)")
        }
        let back = await ProcessProbe.wait(seconds: 10) { probe.openDescriptors <= baseline }
        #expect(back, "descriptors back to \(baseline): \(probe.openDescriptors)")
        print("reliability: resets: 90 sessions, descriptors \(baseline) before, \(probe.openDescriptors) after")
        await ServeProcess.stop(server, log: log)
        await resetting.stop()
        await closing.stop()
        await source.stop()
    }

    /// Issue 12, defect 2: a client that sends its greeting and a wrong password, then pushes up to 300 MiB
    /// while the password is checked, finds its reads held: the server's memory stays flat (it grew by 347
    /// MiB before the fix). A hash with p=16 keeps the check running for most of a second, with scrypt's own
    /// 16 MiB.
    @Test func heldReadsKeepMemoryFlatWhileAPasswordIsChecked() async throws {
        let users = FileManager.default.temporaryDirectory.appendingPathComponent("calzino-users-\(UInt32.random(in: 0...UInt32.max))")
        try "alice:scrypt$16384$8$16$00$\(String(repeating: "0", count: 64))\n".write(to: users, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: users) }
        let (server, log, port) = try await ServeProcess.start(["--users", users.path])
        let probe = ProcessProbe(pid: server.processIdentifier)
        let credentials: [UInt8] = [1, 5] + Array("alice".utf8) + [5] + Array("wrong".utf8)
        // Warm up: one check, so that scrypt's memory and the verification threads are in the baseline.
        let warm = try await onThread { () -> [UInt8] in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send([5, 1, 2])
            _ = try socket.receive(exactly: 2)
            try socket.send(credentials)
            return try socket.receive(exactly: 2)
        }
        #expect(warm == [1, 1])
        let before = probe.residentKiB
        let peak = NIOLockedValueBox(before)
        let sampling = Task {
            while !Task.isCancelled {
                let now = probe.residentKiB
                peak.withLockedValue { $0 = max($0, now) }
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        let (pushed, status) = try await onThread { () -> (Int, [UInt8]) in
            let socket = try RawSocket(port: port, timeoutSeconds: 1)
            defer { socket.close() }
            try socket.send([5, 1, 2])
            _ = try socket.receive(exactly: 2)
            try socket.send(credentials)
            let junk = [UInt8](repeating: 0x5A, count: 1 << 20)
            var pushed = 0
            while pushed < 300 << 20, (try? socket.send(junk)) != nil {
                pushed += junk.count
            }
            return (pushed, (try? socket.receive(exactly: 2)) ?? [])
        }
        sampling.cancel()
        let grownKiB = peak.withLockedValue { $0 } - before
        print("reliability: wrong password then \(pushed >> 20) MiB pushed while it was checked: RSS +\(grownKiB) KiB")
        #expect(status == [1, 1], "the wrong password is answered")
        // scrypt's 16 MiB (released after the warm-up's check, taken again by this one) and a margin.
        #expect(grownKiB < 24 << 10, "the server held \(grownKiB) KiB more while the client pushed \(pushed >> 20) MiB")
        await ServeProcess.stop(server, log: log)
    }
}
