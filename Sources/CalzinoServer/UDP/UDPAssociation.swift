import CalzinoPolicy
import NIOCore
import NIOPosix
import SOCKSCore

/// One UDP ASSOCIATE: a socket the client sends to, sockets that talk to destinations (one per family,
/// opened when first needed, bound to the wildcard address so the routing table picks the source), and the
/// rules of RFC 1928 section 7.
///
/// Which datagrams are the client's is `UDPClientGate`'s decision: only from the client's IP address, and
/// only from the port it declared when it declared one (otherwise the first datagram's port is pinned);
/// FRAG != 0 is dropped. Names are resolved off
/// the event loop and cached briefly. Everything runs on the control connection's event loop; the
/// association ends with the control connection, or when no datagram moves for the idle timeout.
final class UDPAssociation {
    /// Large enough for the largest UDP payload (65,507 bytes) plus the biggest header.
    static let maximumDatagram = 65_536 + 512
    static let nameCacheLifetime = TimeAmount.seconds(30)
    /// Datagrams held per name while it resolves; more are dropped.
    static let pendingPerName = 16

    private let eventLoop: any EventLoop
    private let policy: DestinationPolicy
    private var gate: UDPClientGate
    /// Where replies go: the client's address as its latest datagram came from.
    private var clientAddress: SocketAddress?
    private var clientSocket: (any Channel)?
    private var v4Socket: (any Channel)?
    private var v6Socket: (any Channel)?
    private var nameCache: [String: (addresses: [SocketAddress], expires: NIODeadline)] = [:]
    private var pending: [String: [(port: Int, data: ByteBuffer)]] = [:]
    private var closed = false
    private var idleWatch: NIOScheduledCallback?
    private var idleSampler: IdleSampler?
    /// Datagrams moved either way, for the idle sampler.
    private var activity = 0
    private var onIdle: (() -> Void)?
    private(set) var counters = UDPAssociationCounters()

    private init(eventLoop: any EventLoop, policy: DestinationPolicy, gate: UDPClientGate) {
        self.eventLoop = eventLoop
        self.policy = policy
        self.gate = gate
    }

    /// Opens the client-facing socket on `localAddress`'s IP (the address the client reached the control
    /// connection on). The association is ready when the future succeeds; `boundPort` then says its port.
    static func open(
        on eventLoop: any EventLoop,
        client: SocketAddress,
        declared: SOCKSEndpoint,
        localAddress: SocketAddress,
        policy: DestinationPolicy
    ) -> EventLoopFuture<UDPAssociation> {
        let association = UDPAssociation(
            eventLoop: eventLoop,
            policy: policy,
            gate: UDPClientGate(client: client, declared: declared)
        )
        guard let bindAddress = try? SocketAddress(ipAddress: localAddress.ipAddress ?? "", port: 0) else {
            return eventLoop.makeFailedFuture(ChannelError.badInterfaceAddressFamily)
        }
        let bound = NIOLoopBound(association, eventLoop: eventLoop)
        return association.makeSocket(bindTo: bindAddress, side: .client).map { channel in
            bound.value.clientSocket = channel
            return bound.value
        }
    }

    var boundPort: Int? { self.clientSocket?.localAddress?.port }

    /// Starts the idle watch: with no datagram either way for `timeout`, `onIdle` runs (once).
    func watchIdle(timeout: TimeAmount?, onIdle: @escaping () -> Void) {
        guard let timeout else { return }
        self.onIdle = onIdle
        self.idleSampler = IdleSampler(timeout: timeout)
        self.scheduleIdleCheck()
    }

    func close() {
        guard !self.closed else { return }
        self.closed = true
        self.idleWatch?.cancel()
        self.idleWatch = nil
        self.onIdle = nil
        for channel in [self.clientSocket, self.v4Socket, self.v6Socket].compactMap({ $0 }) {
            channel.close(promise: nil)
        }
        self.clientSocket = nil
        self.v4Socket = nil
        self.v6Socket = nil
        self.pending = [:]
    }

    // MARK: Datagrams

    func fromClient(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !self.closed else { return }
        let verdict = self.gate.admit(envelope.data, from: envelope.remoteAddress)
        if case .foreign = verdict {
            self.counters.droppedForeign += 1
            return
        }
        // The client's own datagram, good or not: replies go where it last came from.
        self.clientAddress = envelope.remoteAddress
        switch verdict {
        case .foreign:
            break
        case .malformed:
            self.counters.droppedMalformed += 1
        case .fragment:
            self.counters.droppedFragment += 1
        case .forward(let destination, let payload):
            self.activity &+= 1
            if let address = destination.socketAddress {
                self.send(payload, to: address)
            } else if case .name(let name) = destination.host {
                self.send(payload, toName: name, port: Int(destination.port))
            }
        }
    }

    func fromTarget(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !self.closed, let client = self.clientAddress, let socket = self.clientSocket else {
            self.counters.droppedEarly += 1
            return
        }
        self.activity &+= 1
        var datagram = socket.allocator.buffer(capacity: envelope.data.readableBytes + 22)
        datagram.writeSOCKSUDPHeader(SOCKSUDPHeader(endpoint: SOCKSEndpoint(envelope.remoteAddress)))
        var payload = envelope.data
        self.counters.datagramsDown += 1
        self.counters.bytesDown += payload.readableBytes
        datagram.writeBuffer(&payload)
        socket.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: datagram), promise: nil)
    }

    /// Sends to `address`, which the datagram named as `name` when it named one (rules match both).
    private func send(_ data: ByteBuffer, to address: SocketAddress, name: String? = nil) {
        guard self.policy.permits(address, name: name) else {
            self.counters.droppedDenied += 1
            return
        }
        let socket: (any Channel)?
        switch address {
        case .v4: socket = self.v4Socket
        case .v6: socket = self.v6Socket
        case .unixDomainSocket: socket = nil
        }
        if let socket {
            self.counters.datagramsUp += 1
            self.counters.bytesUp += data.readableBytes
            socket.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: data), promise: nil)
            return
        }
        // First datagram of this family: open its socket, then send.
        let wildcard = (try? SocketAddress(ipAddress: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0))
        guard let wildcard else {
            self.counters.droppedUnroutable += 1
            return
        }
        self.makeSocket(bindTo: wildcard, side: .target).assumeIsolated().whenComplete { result in
            guard case .success(let channel) = result, !self.closed else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                self.counters.droppedUnroutable += 1
                return
            }
            // Two first datagrams may race to open the family's socket: the first one opened stays.
            if address.protocol == .inet6 {
                if self.v6Socket == nil { self.v6Socket = channel } else { channel.close(promise: nil) }
            } else {
                if self.v4Socket == nil { self.v4Socket = channel } else { channel.close(promise: nil) }
            }
            self.send(data, to: address, name: name)
        }
    }

    private func send(_ data: ByteBuffer, toName name: String, port: Int) {
        if let cached = self.nameCache[name], cached.expires > .now() {
            guard let first = cached.addresses.first, let address = try? SocketAddress(ipAddress: first.ipAddress ?? "", port: port) else {
                self.counters.droppedUnroutable += 1
                return
            }
            self.send(data, to: address, name: name)
            return
        }
        if self.pending[name] != nil {
            if (self.pending[name]?.count ?? 0) < Self.pendingPerName {
                self.pending[name]?.append((port, data))
            } else {
                self.counters.droppedUnroutable += 1
            }
            return
        }
        self.pending[name] = [(port, data)]
        ConcurrentResolver.resolve(host: name, port: port, on: self.eventLoop).assumeIsolated().whenComplete { result in
            let waiting = self.pending.removeValue(forKey: name) ?? []
            guard !self.closed else { return }
            // IPv4 first: a destination that has both is more often reachable over it from a relay.
            let addresses = ((try? result.get()) ?? []).sorted { $0.protocol == .inet && $1.protocol != .inet }
            self.nameCache[name] = (addresses, .now() + Self.nameCacheLifetime)
            for (port, data) in waiting {
                self.send(data, toName: name, port: port)
            }
        }
    }

    // MARK: Sockets and idleness

    private func makeSocket(bindTo address: SocketAddress, side: UDPDatagramHandler.Side) -> EventLoopFuture<any Channel> {
        let handler = NIOLoopBound(UDPDatagramHandler(association: self, side: side), eventLoop: self.eventLoop)
        return DatagramBootstrap(group: self.eventLoop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.maximumDatagram))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }
            .bind(to: address)
    }

    private func scheduleIdleCheck() {
        guard let interval = self.idleSampler?.interval else { return }
        self.idleWatch = DeadlineCallback.schedule(self, in: interval, on: self.eventLoop)
    }
}

extension UDPAssociation: DeadlineTarget {
    func deadlinePassed() {
        self.idleWatch = nil
        guard !self.closed else { return }
        if self.idleSampler?.sample(self.activity) == true {
            let onIdle = self.onIdle
            self.onIdle = nil
            onIdle?()
        } else {
            self.scheduleIdleCheck()
        }
    }
}

@available(*, unavailable)
extension UDPAssociation: Sendable {}
