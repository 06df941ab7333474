import CoreMetrics
import Dispatch
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

/// Resolves a name with `getaddrinfo` on Dispatch's concurrent global queue.
///
/// NIO's own `GetaddrinfoResolver` offloads to one serial queue per event loop, so a single slow name
/// would hold up every other lookup on that loop. Here each lookup has its own worker: a slow name delays
/// only its own session. One `getaddrinfo(AF_UNSPEC)` call answers both the A and the AAAA query.
public final class ConcurrentResolver: Resolver, Sendable {
    private let v4Promise: EventLoopPromise<[SocketAddress]>
    private let v6Promise: EventLoopPromise<[SocketAddress]>
    private let started = NIOLockedValueBox(false)
    /// Told how long each lookup took (the server's `calzino_dns_duration_seconds`).
    private let timer: (any TimerHandler)?

    public convenience init(eventLoop: any EventLoop) {
        self.init(eventLoop: eventLoop, timer: nil)
    }

    init(eventLoop: any EventLoop, timer: (any TimerHandler)?) {
        self.v4Promise = eventLoop.makePromise()
        self.v6Promise = eventLoop.makePromise()
        self.timer = timer
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
        DispatchQueue.global().async {
            switch Self.lookup(host: host, port: port, timer: timer) {
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
        DispatchQueue.global().async {
            promise.completeWith(Self.lookup(host: host, port: port, timer: timer).map { $0.1 + $0.0 }.mapError { $0 as any Error })
        }
        return promise.futureResult
    }

    /// A blocking `getaddrinfo` for TCP, split by family; `timer` is told how long it took.
    static func lookup(host: String, port: Int, timer: (any TimerHandler)? = nil) -> Result<([SocketAddress], [SocketAddress]), ResolutionError> {
        let start = NIODeadline.now()
        defer { timer?.recordNanoseconds(max((NIODeadline.now() - start).nanoseconds, 0)) }
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
