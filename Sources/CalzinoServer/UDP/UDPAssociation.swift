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
///
/// The type is split by concern: this file holds its state, its opening, idleness and closing;
/// `+Datagrams` what moves through it (the gate, the policy, the buckets, the replies); `+Names` datagrams
/// to names. Its state is internal only so that those files can reach it: nothing outside the association
/// reads or writes it.
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

    let eventLoop: any EventLoop
    let terms: Terms
    var gate: UDPClientGate
    /// Where replies go: the client's address as its latest datagram came from.
    var clientAddress: SocketAddress?
    var clientSocket: (any Channel)?
    var v4Socket: (any Channel)?
    var v6Socket: (any Channel)?
    var nameCache = UDPNameCache()
    var pending: [String: [(port: Int, data: ByteBuffer)]] = [:]
    var pendingBytes = 0
    var peers = UDPPeers()
    /// Each permitting rule's throttle, by rule name ("" for no rule): as many as there are rules.
    var throttles: [String: UDPThrottle] = [:]
    /// The rule of the first permitted datagram, whose throttle paces replies from strangers under
    /// `udp-replies: any`; `nil` until then.
    var firstRule: String?
    /// Told once, with the first datagram a rule permits, which rule that is.
    var ruleDecided: ((AccessRule?) -> Void)?
    var closed = false
    var idleWatch: NIOScheduledCallback?
    var idleSampler: IdleSampler?
    /// Datagrams moved either way, for the idle sampler.
    var activity = 0
    var onIdle: (() -> Void)?
    var counters = UDPAssociationCounters()

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

    // MARK: Sockets and idleness

    func makeSocket(bindTo address: SocketAddress, side: UDPDatagramHandler.Side) -> EventLoopFuture<any Channel> {
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
