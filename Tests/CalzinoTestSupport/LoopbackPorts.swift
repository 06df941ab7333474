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

    /// A TCP socket bound to 127.0.0.1 and a port the kernel picks, and that port.
    static func boundLoopbackSocket() throws -> (fd: CInt, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { Glibc.close(fd) }
            throw RawSocket.Failure(description: "loopback socket: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// A loopback listener that accepts nothing, with its one-slot backlog taken: further SYNs are dropped, so a
/// connect to it neither succeeds nor fails until its own timeout.
package final class BlackholeListener: @unchecked Sendable {
    package let port: Int
    private let listener: CInt
    private let filler: RawSocket

    package init() throws {
        let (fd, port) = try ClosedPort.boundLoopbackSocket()
        guard listen(fd, 0) == 0 else {
            Glibc.close(fd)
            throw RawSocket.Failure(description: "blackhole listener: errno \(errno)")
        }
        self.listener = fd
        self.port = port
        // listen(0) leaves room for one connection that is never accepted; it takes the room.
        self.filler = try RawSocket(port: port)
    }

    package func close() {
        self.filler.close()
        Glibc.close(self.listener)
    }
}
