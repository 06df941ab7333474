#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP socket for tests, with a receive timeout so no test hangs on it.
package final class UDPSocket: @unchecked Sendable {
    private let fd: CInt
    package let ipv6: Bool

    /// Bound to `localHost` (default the loopback address of the family) on a free port.
    package init(ipv6: Bool = false, localHost: String? = nil, timeoutMilliseconds: Int = 3000) throws {
        self.ipv6 = ipv6
        self.fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard self.fd >= 0 else { throw RawSocket.Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var size: CInt = 1 << 20
        setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        try self.withAddress(host: localHost ?? (ipv6 ? "::1" : "127.0.0.1"), port: 0) { address, length in
            guard bind(self.fd, address, length) == 0 else { throw RawSocket.Failure(description: "bind: errno \(errno)") }
        }
    }

    deinit {
        close(self.fd)
    }

    package var port: Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        return withUnsafeBytes(of: &storage) { raw in
            Int(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        }
    }

    private func withAddress<T>(host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        if self.ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    package func send(_ bytes: [UInt8], to host: String, port: Int) throws {
        let sent = try self.withAddress(host: host, port: port) { address, length in
            bytes.withUnsafeBytes { sendto(self.fd, $0.baseAddress, $0.count, 0, address, length) }
        }
        guard sent == bytes.count else { throw RawSocket.Failure(description: "sendto: errno \(errno)") }
    }

    /// The next datagram, or `nil` when none comes within the timeout (the socket's, or this call's).
    package func receive(timeoutMilliseconds: Int? = nil) -> [UInt8]? {
        if let timeoutMilliseconds {
            var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
            setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        var buffer = [UInt8](repeating: 0, count: 70_000)
        let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    /// The next datagram on an IPv4 socket and the port it came from, or `nil` within the socket's timeout.
    package func receiveWithSourcePort() -> (bytes: [UInt8], port: Int)? {
        var buffer = [UInt8](repeating: 0, count: 70_000)
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(self.fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        return n >= 0 ? (Array(buffer[0..<n]), Int(UInt16(bigEndian: source.sin_port))) : nil
    }
}

/// SOCKS5 UDP datagrams for tests.
package enum UDPWire {
    package static func header(ipv4 host: [UInt8], port: Int, fragment: UInt8 = 0) -> [UInt8] {
        [0, 0, fragment, 1] + host + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    package static func header(ipv6Loopback port: Int) -> [UInt8] {
        [0, 0, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    package static func header(name: String, port: Int) -> [UInt8] {
        [0, 0, 0, 3, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// Opens a UDP association over a new control connection; returns the control socket and the relay's
    /// address bytes and port from the reply.
    package static func associate(proxyPort: Int, ipv6: Bool = false, declaredPort: Int = 0) throws -> (control: RawSocket, relayHost: [UInt8], relayPort: Int) {
        let control = try RawSocket(port: proxyPort, ipv6: ipv6)
        let declared: [UInt8] = ipv6 ? [4] + [UInt8](repeating: 0, count: 15) + [1] : [1, 127, 0, 0, 1]
        try control.send([5, 1, 0, 5, 3, 0] + declared + [UInt8(declaredPort >> 8), UInt8(declaredPort & 0xFF)])
        _ = try control.receive(exactly: 2)
        let head = try control.receive(exactly: 4)
        guard head[1] == 0 else { throw RawSocket.Failure(description: "UDP ASSOCIATE refused: \(head[1])") }
        let addressLength = head[3] == 4 ? 16 : 4
        let rest = try control.receive(exactly: addressLength + 2)
        return (control, Array(rest[0..<addressLength]), Int(rest[addressLength]) << 8 | Int(rest[addressLength + 1]))
    }
}
