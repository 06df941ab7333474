#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client for byte-exact tests. Every receive has a timeout, so no test can hang on it.
/// Used from one thread at a time; handed between threads only in sequence (hence `@unchecked`).
package final class RawSocket: @unchecked Sendable {
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    private let fd: CInt
    private var closed = false

    /// Connects to 127.0.0.1:`port` (or ::1 when `ipv6`).
    package init(port: Int, ipv6: Bool = false, host: String? = nil, localHost: String? = nil, receiveBuffer: Int? = nil, timeoutSeconds: Int = 15) throws {
        let family = ipv6 ? AF_INET6 : AF_INET
        #if canImport(Glibc)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(family, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer.map(CInt.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        }
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
        let rc: CInt
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = in6addr_loopback
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            if let host { inet_pton(AF_INET, host, &address.sin_addr) }
            if let localHost {
                var local = sockaddr_in()
                local.sin_family = sa_family_t(AF_INET)
                inet_pton(AF_INET, localHost, &local.sin_addr)
                _ = withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard rc == 0 else {
            let error = errno
            // Marked closed first: an initializer that throws still runs deinit, and a second close could hit
            // a descriptor number another thread (an event loop) has been given meanwhile.
            self.closed = true
            Glibc.close(fd)
            throw Failure(description: "connect: errno \(error)")
        }
    }

    deinit {
        if !self.closed {
            Glibc.close(self.fd)
        }
    }

    package func close() {
        guard !self.closed else { return }
        self.closed = true
        Glibc.close(self.fd)
    }

    /// Closes with SO_LINGER 0, which sends a reset instead of a FIN.
    package func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(self.fd)
        self.closed = true
    }

    package func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += n
        }
    }

    /// Receives exactly `count` bytes, or throws on EOF, error or timeout.
    package func receive(exactly count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var chunk = [UInt8](repeating: 0, count: min(max(count, 1), 1 << 16))
        while result.count < count {
            let want = min(chunk.count, count - result.count)
            let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, want, 0) }
            guard n > 0 else {
                throw Failure(description: n == 0 ? "EOF after \(result.count) of \(count) bytes" : "recv: errno \(errno)")
            }
            result += chunk[0..<n]
        }
        return result
    }

    /// Receives until EOF (or `limit` bytes); throws on error or timeout.
    package func receiveUntilEOF(limit: Int = 1 << 30) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while result.count < limit {
            let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return result }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(result.count) bytes") }
            result += chunk[0..<n]
        }
        return result
    }

    /// Receives and counts bytes until EOF, checking them against `expected` at their offset.
    package func drainCounting(check: (Int, UnsafeRawBufferPointer) -> Bool) throws -> Int {
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return total }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(total) bytes") }
            let ok = chunk.withUnsafeBytes { check(total, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            guard ok else { throw Failure(description: "wrong bytes at offset \(total)") }
            total += n
        }
    }

    /// The local port of this socket.
    package var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    package func setReceiveBuffer(_ bytes: Int) {
        var size = CInt(bytes)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
    }

    package func shutdownWrite() {
        shutdown(self.fd, CInt(SHUT_WR))
    }

    /// How a connection ended, as its receiving side sees it.
    package enum Ending: Equatable, Sendable, CustomStringConvertible {
        /// An orderly close: the peer sent a FIN (a receive returned 0).
        case fin
        /// The peer (or the kernel on its behalf) sent a reset.
        case reset
        /// Nothing ended within the socket's receive timeout.
        case stillOpen
        /// Any other receive error.
        case failed(errno: CInt)

        /// The ending a failed receive reports; nil for EINTR (receive again).
        init?(receiveErrno code: CInt) {
            switch code {
            case ECONNRESET: self = .reset
            case EAGAIN, EWOULDBLOCK: self = .stillOpen
            case EINTR: return nil
            default: self = .failed(errno: code)
            }
        }

        package var description: String {
            switch self {
            case .fin: "FIN"
            case .reset: "reset"
            case .stillOpen: "still open"
            case .failed(let code): "recv errno \(code)"
            }
        }
    }

    /// Reads until `count` bytes have come (`ending` nil) or the connection ends or the receive timeout passes
    /// first (`ending` says which): unlike `receive(exactly:)`, a timeout is not mistaken for a close.
    package func receive(upTo count: Int) -> (bytes: [UInt8], ending: Ending?) {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(count, 1))
        while result.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, count - result.count, 0) }
            if n == 0 { return (result, .fin) }
            if n > 0 {
                result += chunk[0..<n]
                continue
            }
            if let ending = Ending(receiveErrno: errno) { return (result, ending) }
        }
        return (result, nil)
    }

    /// Reads until the connection ends or the receive timeout passes: what arrived, and how it ended. With
    /// `waiting: false`, only what has already arrived is read: `.stillOpen` means no end has come yet.
    package func receiveUntilEnd(limit: Int = 1 << 20, waiting: Bool = true) -> (bytes: [UInt8], ending: Ending) {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let flags = waiting ? 0 : CInt(MSG_DONTWAIT)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, flags) }
            if n == 0 { return (result, .fin) }
            if n > 0 {
                // Past the limit, bytes are counted out but not kept.
                if result.count < limit { result += chunk[0..<min(n, limit - result.count)] }
                continue
            }
            if let ending = Ending(receiveErrno: errno) { return (result, ending) }
        }
    }

    /// Reads (and discards) until the connection ends or the receive timeout passes, and says how it ended.
    package func waitForEnd() -> Ending {
        self.receiveUntilEnd(limit: 0).ending
    }

    /// Whether the peer closed in order (a FIN) within the timeout; a reset is not such a close.
    package func waitForFIN() -> Bool {
        self.waitForEnd() == .fin
    }
}
