import CalzinoPolicy
import NIOCore
import NIOPosix
import SOCKSCore

/// One UDP ASSOCIATE: a socket the client sends to, sockets that talk to destinations (one per family,
/// opened when first needed, bound to the wildcard address so the routing table picks the source), and the
/// rules of RFC 1928 section 7.
///
/// Which datagrams are the client's is `UDPClientGate`'s decision: only from the client's IP address, and
/// only from the port it declared (with `udp-client-port: first` and port 0, the first datagram's port is
/// pinned); FRAG != 0 is dropped. Each datagram's destination is asked of the policy; the rule that permits
/// it paces it (`UDPThrottle`: beyond the rate a datagram is dropped) and the first such rule is the
/// association's (`ruleDecided`). Replies come back only from destinations sent to, unless `udp-replies:
/// any`. Names are resolved off the event loop, a bounded number at a time, and cached briefly in a
/// bounded cache. Everything runs on the control connection's event loop; the association ends with the
/// control connection, or when no datagram moves for the idle timeout.
final class UDPAssociation {
    /// Large enough for the largest UDP payload (65,507 bytes) plus the biggest header.
    static let maximumDatagram = 65_536 + 512
    /// Datagrams held per name while it resolves; more are dropped.
    static let pendingPerName = 16
    /// Names resolving at once for one association.
    static let lookupsInFlight = 4
    /// Payload bytes held, in all, while names resolve.
    static let pendingBytesLimit = 256 * 1024

    /// What the association works under, from the session.
    struct Terms {
        var policy: DestinationPolicy
        var replies: UDPReplies
        /// The session's settings (with the admission's rule in place, if it decided): each rule's
        /// throttle starts from them.
        var settings: SessionSettings
        var user: String?
    }

    /// One rule's buckets for datagrams.
    struct UDPThrottle {
        var up: RelayThrottle?
        var down: RelayThrottle?
    }

    private let eventLoop: any EventLoop
    private let terms: Terms
    private var gate: UDPClientGate
    /// Where replies go: the client's address as its latest datagram came from.
    private var clientAddress: SocketAddress?
    private var clientSocket: (any Channel)?
    private var v4Socket: (any Channel)?
    private var v6Socket: (any Channel)?
    private var nameCache = UDPNameCache()
    private var pending: [String: [(port: Int, data: ByteBuffer)]] = [:]
    private var pendingBytes = 0
    private var peers = UDPPeers()
    /// Each permitting rule's throttle, by rule name ("" for no rule): as many as there are rules.
    private var throttles: [String: UDPThrottle] = [:]
    /// The rule of the first permitted datagram, whose throttle paces replies from strangers under
    /// `udp-replies: any`; `nil` until then.
    private var firstRule: String?
    /// Told once, with the first datagram a rule permits, which rule that is.
    var ruleDecided: ((AccessRule?) -> Void)?
    private var closed = false
    private var idleWatch: NIOScheduledCallback?
    private var idleSampler: IdleSampler?
    /// Datagrams moved either way, for the idle sampler.
    private var activity = 0
    private var onIdle: (() -> Void)?
    private(set) var counters = UDPAssociationCounters()

    private init(eventLoop: any EventLoop, terms: Terms, gate: UDPClientGate) {
        self.eventLoop = eventLoop
        self.terms = terms
        self.gate = gate
    }

    /// Opens the client-facing socket on `localAddress`'s IP (the address the client reached the control
    /// connection on). The association is ready when the future succeeds; `boundPort` then says its port.
    static func open(
        on eventLoop: any EventLoop,
        client: SocketAddress,
        declared: SOCKSEndpoint,
        localAddress: SocketAddress,
        terms: Terms
    ) -> EventLoopFuture<UDPAssociation> {
        let association = UDPAssociation(
            eventLoop: eventLoop,
            terms: terms,
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
        self.onIdle = onIdle
        self.changeIdleTimeout(timeout)
    }

    /// A rule decided late may set another idle timeout (or none).
    func changeIdleTimeout(_ timeout: TimeAmount?) {
        self.idleSampler = timeout.map(IdleSampler.init(timeout:))
        if self.idleSampler == nil {
            self.idleWatch?.cancel()
            self.idleWatch = nil
        } else if self.idleWatch == nil {
            self.scheduleIdleCheck()
        }
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
        self.pendingBytes = 0
        self.ruleDecided = nil
    }

    // MARK: Datagrams

    func fromClient(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !self.closed else { return }
        let verdict = self.gate.admit(envelope.data, from: envelope.remoteAddress)
        if case .foreign = verdict {
            self.counters.drop(.foreign)
            return
        }
        // The client's own datagram, good or not: replies go where it last came from.
        self.clientAddress = envelope.remoteAddress
        switch verdict {
        case .foreign:
            break
        case .malformed:
            self.counters.drop(.malformed)
        case .fragment:
            self.counters.drop(.fragment)
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
            self.counters.drop(.early)
            return
        }
        let source = SOCKSEndpoint(envelope.remoteAddress)
        let rule: String
        if let sentTo = self.peers[source] {
            rule = sentTo
        } else if self.terms.replies == .any, let first = self.firstRule {
            rule = first
        } else {
            self.counters.drop(.unsolicited)
            return
        }
        var payload = envelope.data
        guard self.throttles[rule]?.down?.admitDatagram(payload.readableBytes) ?? true else {
            self.counters.drop(.bandwidth)
            return
        }
        self.activity &+= 1
        var datagram = socket.allocator.buffer(capacity: payload.readableBytes + 22)
        datagram.writeSOCKSUDPHeader(SOCKSUDPHeader(endpoint: source))
        self.counters.datagramsDown += 1
        self.counters.bytesDown += payload.readableBytes
        datagram.writeBuffer(&payload)
        socket.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: datagram), promise: nil)
    }

    /// Sends to `address`, which the datagram named as `name` when it named one (rules match both).
    private func send(_ data: ByteBuffer, to address: SocketAddress, name: String? = nil) {
        guard case .permitted(let permitting) = self.terms.policy.decision(of: address, name: name) else {
            self.counters.drop(.denied)
            return
        }
        let rule = self.throttle(for: permitting)
        guard self.throttles[rule]?.up?.admitDatagram(data.readableBytes) ?? true else {
            self.counters.drop(.bandwidth)
            return
        }
        self.transmit(data, to: address, rule: rule)
    }

    /// Writes a permitted datagram on its family's socket, opening the socket first if need be.
    private func transmit(_ data: ByteBuffer, to address: SocketAddress, rule: String) {
        let socket: (any Channel)?
        switch address {
        case .v4: socket = self.v4Socket
        case .v6: socket = self.v6Socket
        case .unixDomainSocket: socket = nil
        }
        if let socket {
            self.peers.sent(to: SOCKSEndpoint(address), rule: rule)
            self.counters.datagramsUp += 1
            self.counters.bytesUp += data.readableBytes
            socket.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: data), promise: nil)
            return
        }
        // First datagram of this family: open its socket, then send. The socket is a descriptor beyond the
        // two the control connection holds (issue 12, defect 9).
        let wildcard = (try? SocketAddress(ipAddress: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0))
        guard let wildcard else {
            self.counters.drop(.unroutable)
            return
        }
        let descriptors = self.terms.settings.shared.descriptors
        guard descriptors.reserve(1) else {
            self.counters.drop(.busy)
            return
        }
        self.makeSocket(bindTo: wildcard, side: .target).assumeIsolated().whenComplete { result in
            guard case .success(let channel) = result else {
                descriptors.release(1)
                self.counters.drop(.unroutable)
                return
            }
            channel.closeFuture.whenComplete { _ in descriptors.release(1) }
            guard !self.closed else {
                channel.close(promise: nil)
                self.counters.drop(.unroutable)
                return
            }
            // Two first datagrams may race to open the family's socket: the first one opened stays.
            if address.protocol == .inet6 {
                if self.v6Socket == nil { self.v6Socket = channel } else { channel.close(promise: nil) }
            } else {
                if self.v4Socket == nil { self.v4Socket = channel } else { channel.close(promise: nil) }
            }
            self.transmit(data, to: address, rule: rule)
        }
    }

    /// The key of `rule`'s throttle, made on its first datagram; the first rule to permit one is the
    /// association's, and the session hears of it.
    private func throttle(for rule: AccessRule?) -> String {
        let key = rule?.name ?? ""
        if self.throttles[key] == nil {
            var settings = self.terms.settings
            if let rule {
                settings.apply(rule)
            }
            self.throttles[key] = UDPThrottle(
                up: RelayWiring.throttle(.up, settings: settings, user: self.terms.user),
                down: RelayWiring.throttle(.down, settings: settings, user: self.terms.user)
            )
        }
        if self.firstRule == nil {
            self.firstRule = key
            self.ruleDecided?(rule)
        }
        return key
    }

    private func send(_ data: ByteBuffer, toName name: String, port: Int) {
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

    private static func compacted(_ data: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: data.readableBytes)
        copy.writeImmutableBuffer(data)
        return copy
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
