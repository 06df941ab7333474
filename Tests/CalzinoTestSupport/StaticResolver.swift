import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A resolver for tests: names in `table` resolve at once, names in `hanging` never answer, anything else
/// fails. It keeps test traffic off any DNS server.
package final class StaticResolver: Resolver, Sendable {
    package struct NoSuchName: Error {}

    package let eventLoop: any EventLoop
    package let table: [String: [SocketAddress]]
    package let hanging: Set<String>
    // Promises for hanging names, kept so that they are failed (not leaked) when the query is cancelled.
    private let pending = NIOLockedValueBox<[EventLoopPromise<[SocketAddress]>]>([])

    package init(eventLoop: any EventLoop, table: [String: [SocketAddress]], hanging: Set<String> = []) {
        self.eventLoop = eventLoop
        self.table = table
        self.hanging = hanging
    }

    package func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.answer(host: host, port: port, family: .inet)
    }

    package func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        self.answer(host: host, port: port, family: .inet6)
    }

    package func cancelQueries() {
        let promises = self.pending.withLockedValue { pending in
            defer { pending = [] }
            return pending
        }
        promises.forEach { $0.fail(NoSuchName()) }
    }

    private func answer(host: String, port: Int, family: NIOBSDSocket.ProtocolFamily) -> EventLoopFuture<[SocketAddress]> {
        if self.hanging.contains(host) {
            let promise = self.eventLoop.makePromise(of: [SocketAddress].self)
            self.pending.withLockedValue { $0.append(promise) }
            return promise.futureResult
        }
        guard let addresses = self.table[host] else {
            return self.eventLoop.makeFailedFuture(NoSuchName())
        }
        let matching = addresses.filter { $0.protocol == family }.compactMap { address -> SocketAddress? in
            guard let ip = address.ipAddress else { return nil }
            return try? SocketAddress(ipAddress: ip, port: port)
        }
        return self.eventLoop.makeSucceededFuture(matching)
    }
}
