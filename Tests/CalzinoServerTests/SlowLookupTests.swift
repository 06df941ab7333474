@testable import CalzinoServer
import Foundation
import NIOCore
import CalzinoTestSupport
import Testing

/// Name lookups run off the event loop, each on a worker of its own: lookups that really block their thread
/// (as a `getaddrinfo` waiting on a dead DNS server does) hold up no other session's lookup or relay.
@Suite(.timeLimit(.minutes(1)))
struct SlowLookupTests {
    /// More blocked lookups than the machine has cores (four times as many, up to half the lookup threads): a
    /// resolver with a pool as wide as the cores (Dispatch's global queue on Linux, NIO's one serial queue per
    /// loop) would starve every later lookup.
    static let blockedLookups = min(max(8, 4 * ProcessInfo.processInfo.activeProcessorCount), ConcurrentResolver.lookupThreadCount / 2)

    @Test func lookupsThatReallyBlockDelayNoOtherSession() async throws {
        let gate = LookupGate()
        defer { gate.open() }
        let lookup = BlockingLookup { host, port in
            guard host == "slow.test" else { return BlockingLookup.system.run(host, port) }
            gate.holdUntilOpen(atMost: 20)
            return .failure(ResolutionError(name: host, detail: "held by the test"))
        }
        let target = try await TestTarget.start(.echo)
        let proxy = try await TestServer.start {
            $0.timeouts.connect = .seconds(30)
            $0.timeouts.handshake = .seconds(30)
            $0.dialer = DirectDialer(lookup: lookup)
        }
        let port = proxy.port, targetPort = target.port
        let stuck = try await onThread {
            try (0..<Self.blockedLookups).map { _ -> RawSocket in
                let socket = try RawSocket(port: port)
                try socket.send([5, 1, 0] + Array(Wire.socks5ConnectName("slow.test", port: 80).dropFirst(3)))
                return socket
            }
        }
        // Every slow lookup gets a thread of its own at once: none waits behind the others.
        let sent = Date()
        for _ in 0..<500 where gate.held < Self.blockedLookups {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let allBlocking = Date().timeIntervalSince(sent)
        #expect(gate.held == Self.blockedLookups)
        #expect(allBlocking < 4, "\(Self.blockedLookups) lookups were under way at once only after \(allBlocking) s")
        let start = Date()
        let echoed = try await onThread {
            try (0..<20).filter { i in
                let socket = try RawSocket(port: port, timeoutSeconds: 5)
                try socket.send([5, 1, 0] + Array(Wire.socks5ConnectName("localhost", port: targetPort).dropFirst(3)) + [UInt8(i)])
                let (_, reply) = try Wire.readSOCKS5Reply(socket)
                guard reply[1] == 0 else { return false }
                return try socket.receive(exactly: 1) == [UInt8(i)]
            }.count
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(echoed == 20, "20 sessions to a name completed while \(Self.blockedLookups) lookups block")
        #expect(elapsed < 5, "20 sessions took \(elapsed) s (with the lookups starved: 7 s and more)")
        #expect(gate.held == Self.blockedLookups, "all the slow lookups were blocking at once")
        gate.open()
        stuck.forEach { $0.close() }
        await proxy.stop()
        await target.stop()
    }
}

/// Holds lookup threads (really blocked, in a condition wait) until the test opens it.
final class LookupGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var holding = 0

    /// How many threads are held right now.
    var held: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.holding
    }

    func holdUntilOpen(atMost seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        self.condition.lock()
        self.holding += 1
        while !self.isOpen && self.condition.wait(until: deadline) {}
        self.holding -= 1
        self.condition.unlock()
    }

    func open() {
        self.condition.lock()
        self.isOpen = true
        self.condition.broadcast()
        self.condition.unlock()
    }
}
