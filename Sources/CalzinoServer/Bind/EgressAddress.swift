import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The local address this host would send from to reach a destination: the routing table's answer, read
/// by connecting a UDP socket (which sends nothing) and asking for its name.
enum EgressAddress {
    static func towards(_ destination: SocketAddress) -> SocketAddress? {
        var target = destination
        if target.port == 0 {
            // connect(2) on a datagram socket wants a port; the value does not change the route.
            target = (try? SocketAddress(ipAddress: destination.ipAddress ?? "", port: 9)) ?? destination
        }
        let family: CInt
        switch target {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: return nil
        }
        #if canImport(Glibc)
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(family, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let connected = target.withSockAddr { address, length in
            connect(fd, address, socklen_t(length)) == 0
        }
        guard connected else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard named else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in.self) }
            var local = SocketAddress(address, host: "")
            local = (try? SocketAddress(ipAddress: local.ipAddress ?? "", port: 0)) ?? local
            return local
        case AF_INET6:
            let address = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
            let local = SocketAddress(address, host: "")
            return (try? SocketAddress(ipAddress: local.ipAddress ?? "", port: 0)) ?? local
        default:
            return nil
        }
    }
}
