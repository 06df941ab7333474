import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves a name with `getaddrinfo` on a pool of lookup threads of its own (`lookupThreads`).
///
/// NIO's own `GetaddrinfoResolver` offloads to one serial queue per event loop, so a single slow name
/// would hold up every other lookup on that loop. Dispatch's global queue is no better on Linux: it is as
/// wide as the cores and adds a thread only about once a second while its workers block, so two names
/// waiting on a dead DNS server held every other lookup for seconds (`SlowLookupTests`). Here up to
/// `lookupThreadCount` lookups block at once, each delaying only its own session; beyond that, lookups wait
/// their turn, which also bounds the threads a flood of names can tie up. One `getaddrinfo(AF_UNSPEC)` call
/// answers both the A and the AAAA query.
public final class ConcurrentResolver: Resolver, Sendable {
    /// How many blocking lookups may be under way at once (CONNECT, BIND and UDP names together). Each may hold
    /// a DNS socket that the descriptor ledger does not count: 32 stay well within the 64 descriptors the
    /// server keeps out of the ledger (`CalzinoServer.reservedDescriptors`).
    static let lookupThreadCount = 32

    /// Started on the first lookup; its threads idle in a condition wait (about 10 KiB of memory each).
    private static let lookupThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: lookupThreadCount)
        pool.start()
        return pool
    }()

    private let v4Promise: EventLoopPromise<[SocketAddress]>
    private let v6Promise: EventLoopPromise<[SocketAddress]>
    private let started = NIOLockedValueBox(false)
    /// Told how long each lookup took (the server's `calzino_dns_duration_seconds`).
    private let timer: (any TimerHandler)?
    /// The blocking call made on the worker: `getaddrinfo`, or a stand-in that blocks on purpose in tests.
    private let lookup: BlockingLookup

    public convenience init(eventLoop: any EventLoop, lookup: BlockingLookup = .system) {
        self.init(eventLoop: eventLoop, timer: nil, lookup: lookup)
    }

    init(eventLoop: any EventLoop, timer: (any TimerHandler)?, lookup: BlockingLookup = .system) {
        self.v4Promise = eventLoop.makePromise()
        self.v6Promise = eventLoop.makePromise()
        self.timer = timer
        self.lookup = lookup
    }

    public func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.startOnce(host: host, port: port)
        return self.v4Promise.futureResult
    }

    public func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.startOnce(host: host, port: port)
        return self.v6Promise.futureResult
    }

    /// A blocking lookup cannot be interrupted; its answer is simply ignored by a connector that gave up.
    public func cancelQueries() {}

    private func startOnce(host: String, port: Int) {
        let first = self.started.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        let timer = self.timer
        let lookup = self.lookup
        Self.lookupThreads.submit { _ in
            switch Self.timed(timer, lookup.run(host, port)) {
            case .success(let (v4, v6)):
                self.v6Promise.succeed(v6)
                self.v4Promise.succeed(v4)
            case .failure(let error):
                self.v6Promise.fail(error)
                self.v4Promise.fail(error)
            }
        }
    }

    /// Resolves `host` off the event loop; the future completes on `eventLoop` with the IPv6 addresses first.
    static func resolve(host: String, port: Int, on eventLoop: any EventLoop, timer: (any TimerHandler)? = nil) -> EventLoopFuture<[SocketAddress]> {
        guard !host.utf8.contains(0) else {
            return eventLoop.makeFailedFuture(ResolutionError(name: host, detail: "name contains NUL"))
        }
        let promise = eventLoop.makePromise(of: [SocketAddress].self)
        Self.lookupThreads.submit { _ in
            promise.completeWith(Self.timed(timer, Self.getaddrinfoLookup(host: host, port: port)).map { $0.1 + $0.0 }.mapError { $0 as any Error })
        }
        return promise.futureResult
    }

    /// Runs `lookup`, telling `timer` how long it took.
    static func timed<T>(_ timer: (any TimerHandler)?, _ lookup: @autoclosure () -> T) -> T {
        let start = NIODeadline.now()
        defer { timer?.recordNanoseconds(max((NIODeadline.now() - start).nanoseconds, 0)) }
        return lookup()
    }

    /// A blocking `getaddrinfo` for TCP, split by family.
    static func getaddrinfoLookup(host: String, port: Int) -> Result<([SocketAddress], [SocketAddress]), ResolutionError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var info: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &info)
        guard rc == 0, let first = info else {
            let detail = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            return .failure(ResolutionError(name: host, detail: detail))
        }
        defer { freeaddrinfo(first) }
        var v4: [SocketAddress] = []
        var v6: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    let address = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
                    v4.append(SocketAddress(address, host: host))
                case AF_INET6:
                    let address = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
                    v6.append(SocketAddress(address, host: host))
                default:
                    break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return .success((v4, v6))
    }
}
