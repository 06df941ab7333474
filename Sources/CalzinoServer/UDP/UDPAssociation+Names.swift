import CalzinoPolicy
import NIOCore
import NIOPosix
import SOCKSCore

// MARK: Datagrams to names: resolved off the event loop, within bounds, cached briefly

extension UDPAssociation {
    func send(_ data: ByteBuffer, toName name: String, port: Int) {
        if let addresses = self.nameCache.addresses(of: name) {
            guard let first = addresses.first, let address = try? SocketAddress(ipAddress: first.ipAddress ?? "", port: port) else {
                self.counters.drop(.unroutable)
                return
            }
            self.send(data, to: address, name: name)
            return
        }
        // While the name resolves its datagrams wait, copied out of their 64 KiB receive buffers, within
        // bounds per name and per association.
        let fits = self.pendingBytes + data.readableBytes <= Self.pendingBytesLimit
        if let waiting = self.pending[name] {
            guard waiting.count < Self.pendingPerName, fits else {
                self.counters.drop(.busy)
                return
            }
            self.pending[name]?.append((port, Self.compacted(data)))
            self.pendingBytes += data.readableBytes
            return
        }
        guard fits, self.pending.count < Self.lookupsInFlight, self.terms.settings.shared.udpLookups.acquire() else {
            self.counters.drop(.busy)
            return
        }
        self.pending[name] = [(port, Self.compacted(data))]
        self.pendingBytes += data.readableBytes
        let budget = self.terms.settings.shared.udpLookups
        ConcurrentResolver.resolve(host: name, port: port, on: self.eventLoop, timer: self.terms.settings.metrics?.dnsDuration).assumeIsolated().whenComplete { result in
            budget.release()
            guard !self.closed else { return }
            let waiting = self.pending.removeValue(forKey: name) ?? []
            self.pendingBytes -= waiting.reduce(0) { $0 + $1.data.readableBytes }
            // IPv4 first: a destination that has both is more often reachable over it from a relay.
            let addresses = ((try? result.get()) ?? []).sorted { $0.protocol == .inet && $1.protocol != .inet }
            self.nameCache.store(addresses, for: name)
            for (port, data) in waiting {
                self.send(data, toName: name, port: port)
            }
        }
    }

    static func compacted(_ data: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: data.readableBytes)
        copy.writeImmutableBuffer(data)
        return copy
    }
}
