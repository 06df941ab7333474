#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that refuses connections for as long as this value lives: a socket bound to it that
/// never listens. A port freed after use could be taken by a parallel test meanwhile; this one cannot.
package final class ClosedPort: @unchecked Sendable {
    package let port: Int
    private let fd: CInt

    package init() throws {
        (self.fd, self.port) = try Self.boundLoopbackSocket()
    }

    deinit {
        Glibc.close(self.fd)
    }

    /// A TCP socket bound to 127.0.0.1 (or ::1) and `port` (0: one the kernel picks), and that port.
    static func boundLoopbackSocket(ipv6: Bool = false, port: Int = 0) throws -> (fd: CInt, port: Int) {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in6()
        var length: socklen_t
        if ipv6 {
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            // sockaddr_in fits in sockaddr_in6's storage, its port at the same offset.
            withUnsafeMutableBytes(of: &address) { raw in
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
                v4.sin_port = in_port_t(UInt16(port).bigEndian)
                raw.storeBytes(of: v4, as: sockaddr_in.self)
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { Glibc.close(fd) }
            throw RawSocket.Failure(description: "loopback socket: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin6_port)))
    }
}

/// A loopback listener that accepts nothing, with its one-slot backlog taken: further SYNs are dropped, so a
/// connect to it neither succeeds nor fails until its own timeout.
package final class BlackholeListener: @unchecked Sendable {
    package let port: Int
    private let listener: CInt
    private let filler: RawSocket

    /// On 127.0.0.1 (or ::1) and `port` (0: one the kernel picks).
    package init(ipv6: Bool = false, port: Int = 0) throws {
        let (fd, port) = try ClosedPort.boundLoopbackSocket(ipv6: ipv6, port: port)
        guard listen(fd, 0) == 0 else {
            Glibc.close(fd)
            throw RawSocket.Failure(description: "blackhole listener: errno \(errno)")
        }
        self.listener = fd
        self.port = port
        // listen(0) leaves room for one connection that is never accepted; it takes the room.
        self.filler = try RawSocket(port: port, ipv6: ipv6)
    }

    package func close() {
        self.filler.close()
        Glibc.close(self.listener)
    }
}
