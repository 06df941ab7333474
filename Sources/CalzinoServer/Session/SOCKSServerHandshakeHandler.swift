import CalzinoPolicy
import Dispatch
import Logging
import NIOCore
import SOCKSCore

/// Runs one client connection from its first byte until the relay takes over: feeds bytes to the
/// handshake state machine, carries out the request, sends the reply, wires the relay and leaves the
/// pipeline, handing on every byte the client sent behind its request.
final class SOCKSServerHandshakeHandler {
    private enum Phase {
        /// Reading the greeting and the request.
        case handshaking
        /// The request is complete and being carried out: bytes are kept for the relay.
        case executing
        /// BIND: the first reply is out; waiting for the peer to connect. Bytes are kept as while executing.
        case awaitingPeer
        /// A failure reply was sent: input is read and thrown away until the client closes.
        case closing
        /// The relay runs; this handler is on its way out of the pipeline.
        case relaying
        /// UDP ASSOCIATE: the reply is out; the control connection carries nothing more and its end ends
        /// the association.
        case associated
    }

    private var stateMachine: SOCKSServerHandshakeStateMachine
    private var phase: Phase = .handshaking
    private var buffer: ByteBuffer?
    private var readHeld = false
    /// RFC 1929 credentials are being checked; bytes behind them wait in the buffer.
    private var authenticating = false
    private var inputClosedWhileExecuting = false
    private var deadline: NIOScheduledCallback?
    private var bindListener: BindListener?
    private var association: UDPAssociation?
    private var context: ChannelHandlerContext?
    /// The listener's settings, with the deciding rule's overrides once the request is allowed.
    private var settings: SessionSettings
    /// What the request's destinations (each resolved address, the BIND peer, each datagram) must pass.
    private var policy: DestinationPolicy = .allowAll
    private let record: SessionRecord

    /// Pipelined bytes kept while a request runs before reads are held.
    static let pipelinedBytesBeforeHoldingReads = 16 * 1024

    init(settings: SessionSettings, record: SessionRecord) {
        self.settings = settings
        self.record = record
        // SOCKS4 is parsed on every listener; one with users admits it only through a rule (see `admit`).
        self.stateMachine = SOCKSServerHandshakeStateMachine(acceptedMethods: settings.acceptedMethods)
    }
}

extension SOCKSServerHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The handshake deadline covers everything up to the reply, the connect included; the connect has its
        // own, shorter or longer, timeout too.
        self.deadline = DeadlineCallback.schedule(self, in: self.settings.handshakeTimeout, on: context.eventLoop)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A session that never reached the relay ends with its client connection; a relayed one ends in its
        // RelaySession, once both of its channels have closed.
        self.deadline?.cancel()
        self.deadline = nil
        self.closeBindListener()
        if let association = self.association {
            association.close()
            self.association = nil
            self.record.udp = association.counters
        }
        if self.phase != .relaying {
            self.record.log(to: self.settings.accessLogger)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline?.cancel()
        self.deadline = nil
        self.context = nil
        // Bytes the client sent behind its request go to the relay, then the EOF if it came, then reading resumes.
        if let buffer = self.buffer, buffer.readableBytes > 0 {
            self.buffer = nil
            context.fireChannelRead(self.wrapInboundOut(buffer))
            context.fireChannelReadComplete()
        }
        if self.inputClosedWhileExecuting {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        if self.readHeld {
            self.readHeld = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        switch self.phase {
        case .handshaking:
            self.append(&incoming)
            self.processBuffer(context: context)
            // Let go of a fully parsed buffer: it is NIO's pooled receive buffer, and holding it would make
            // the next read allocate a new one.
            if self.buffer?.readableBytes == 0 {
                self.buffer = nil
            }
        case .executing, .awaitingPeer, .relaying:
            // Pipelined bytes: keep them for the relay.
            self.append(&incoming)
        case .closing, .associated:
            break
        }
    }

    func read(context: ChannelHandlerContext) {
        switch self.phase {
        case .handshaking, .closing, .associated:
            context.read()
        case .executing, .awaitingPeer, .relaying:
            // Bytes that arrive while the request runs are kept for the relay. Reading goes on until they
            // pass a bound, so that the usual client, which sends nothing before the reply, costs no
            // interest changes on the socket; past the bound one read burst at most is added.
            if (self.buffer?.readableBytes ?? 0) < Self.pipelinedBytesBeforeHoldingReads {
                context.read()
            } else {
                self.readHeld = true
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, case .inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch self.phase {
        case .handshaking, .closing:
            // A client that stops sending before its request is complete will never complete it.
            context.close(promise: nil)
        case .associated:
            // The control connection ended from the client's side: so does the association.
            context.close(promise: nil)
        case .awaitingPeer:
            // A BIND client that leaves before its peer arrives: the listener closes at once.
            self.record.failure = "client left before the BIND peer"
            self.closeBindListener()
            context.close(promise: nil)
        case .executing, .relaying:
            self.inputClosedWhileExecuting = true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.settings.logger.debug("client connection error", metadata: ["error": "\(error)"])
        if self.record.failure == nil {
            self.record.failure = "\(error)"
        }
        context.close(promise: nil)
    }
}

extension SOCKSServerHandshakeHandler {
    private func processBuffer(context: ChannelHandlerContext) {
        while self.phase == .handshaking, !self.authenticating, var buffer = self.buffer {
            self.buffer = nil
            let action = self.stateMachine.receivedBytes(&buffer)
            self.buffer = buffer
            switch action {
            case .needMoreBytes:
                return
            case .send(let message):
                self.write(message, context: context)
                context.flush()
            case .sendAndClose(let message, let cause):
                self.record.failure = "\(cause)"
                self.closeAfterReply(message, context: context)
            case .close(let error):
                self.record.failure = "\(error)"
                self.phase = .closing
                context.close(promise: nil)
            case .authenticate(let credentials):
                self.authenticate(credentials, context: context)
            case .request(let request):
                self.record.request = request
                self.phase = .executing
                self.execute(request, context: context)
            }
        }
    }

    /// Checks RFC 1929 credentials on a worker thread (scrypt is slow by design), then answers on the loop.
    private func authenticate(_ credentials: SOCKS5UsernamePasswordRequest, context: ChannelHandlerContext) {
        guard let users = self.settings.users else {
            self.authenticated(nil, context: context)
            return
        }
        self.authenticating = true
        let verdict = context.eventLoop.makePromise(of: String?.self)
        DispatchQueue.global().async {
            verdict.succeed(users.verify(username: credentials.username, password: credentials.password))
        }
        verdict.futureResult.assumeIsolated().whenSuccess { user in
            self.authenticated(user, context: context)
        }
    }

    private func authenticated(_ user: String?, context: ChannelHandlerContext) {
        self.authenticating = false
        guard context.channel.isActive, self.phase == .handshaking else { return }
        if let user, let response = self.stateMachine.authenticationSucceeded() {
            self.record.user = user
            self.write(response, context: context)
            context.flush()
            self.processBuffer(context: context)
            if self.buffer?.readableBytes == 0 {
                self.buffer = nil
            }
        } else if let response = self.stateMachine.authenticationFailed() {
            self.record.failure = "authentication failed"
            self.closeAfterReply(response, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func execute(_ request: SOCKSClientRequest, context: ChannelHandlerContext) {
        guard case .unknown = request.command else {
            if request.version != .socks5, self.settings.ident != .off {
                self.checkIdent(request, context: context)
            } else {
                self.carryOut(request, context: context)
            }
            return
        }
        self.fail(.commandNotSupported, context: context)
    }

    /// RFC 1413: asks the client's identd who owns the connection. A USERID that differs from the
    /// request's, or an ERROR answer, gets 0x5D; no usable answer gets 0x5C when ident is required and is
    /// let through when it is optional. A confirmed USERID is the session's user for rules and limits.
    private func checkIdent(_ request: SOCKSClientRequest, context: ChannelHandlerContext) {
        guard let client = context.channel.remoteAddress, let server = context.channel.localAddress else {
            self.fail(.identdUnreachable, context: context)
            return
        }
        IdentQuery.ask(client: client, server: server, identPort: self.settings.identPort, timeout: self.settings.identTimeout, on: context.eventLoop)
            .assumeIsolated()
            .whenSuccess { response in
                guard context.channel.isActive, self.phase == .executing else { return }
                switch response {
                case .user(let user) where user == request.userID:
                    self.record.user = user
                    self.carryOut(request, context: context)
                case .user(let user):
                    self.record.failure = "ident: identd says '\(user)', the request says '\(request.userID ?? "")'"
                    self.fail(.identdMismatch, context: context)
                case .error(let reason):
                    self.record.failure = "ident: identd answered ERROR \(reason)"
                    self.fail(.identdMismatch, context: context)
                case .none where self.settings.ident == .required:
                    self.record.failure = "ident: no answer from identd"
                    self.fail(.identdUnreachable, context: context)
                case .none:
                    self.carryOut(request, context: context)
                }
            }
    }

    private func carryOut(_ request: SOCKSClientRequest, context: ChannelHandlerContext) {
        guard let access = self.accessRequest(for: request) else {
            self.fail(.commandNotSupported, context: context)
            return
        }
        guard self.admit(access, context: context) else { return }
        switch access.command {
        case .connect:
            self.connect(to: request.destination, context: context)
        case .bind:
            self.bind(expecting: request.destination, context: context)
        case .udp:
            self.associate(declared: request.destination, context: context)
        }
    }

    /// The request as rules see it. UDP ASSOCIATE's DST is the client's own address, and a BIND to 0.0.0.0
    /// admits any peer: neither names a destination, so rules on destinations decide per datagram or peer.
    private func accessRequest(for request: SOCKSClientRequest) -> AccessRequest? {
        let command: AccessRequest.Command
        switch request.command {
        case .connect: command = .connect
        case .bind: command = .bind
        case .udpAssociate: command = .udp
        case .unknown: return nil
        }
        var access = AccessRequest(
            listener: self.settings.listenerName,
            client: self.record.clientAddress.map { SOCKSEndpoint($0).host } ?? .unspecifiedIPv4,
            user: self.record.user,
            version: request.version,
            command: command
        )
        let host = request.destination.host
        if command != .udp, host != .unspecifiedIPv4, host != .unspecifiedIPv6 {
            access.setDestination(request.destination)
        }
        return access
    }

    /// Asks the rules; on a denial sends 0x02 (SOCKS4: 0x5B) and returns false. On success applies the
    /// deciding rule's overrides and sets the policy that later destinations must pass.
    private func admit(_ access: AccessRequest, context: ChannelHandlerContext) -> Bool {
        let verdict = self.settings.rules.evaluate(access, protected: self.settings.protectedClasses)
        var decidingRule: AccessRule?
        switch verdict {
        case .denied(let rule):
            self.deny(by: rule, context: context)
            return false
        case .allowed(let rule):
            decidingRule = rule
            if !self.settings.rules.isEmpty {
                self.record.rule = rule?.name ?? "default"
            }
        case .undecided:
            break
        }
        // SOCKS4 carries no password: a listener with users serves it only when an allow rule names the
        // version explicitly (and so, usually, the client addresses or ident users it trusts).
        if access.version != .socks5, self.settings.users != nil, decidingRule?.versions == nil {
            self.deny(by: "socks4-needs-rule", context: context)
            return false
        }
        if let rule = decidingRule {
            self.settings.apply(rule)
        }
        guard self.countSession(context: context) else { return false }
        self.policy = self.settings.rules.isEmpty
            ? self.settings.listenerPolicy
            : self.settings.rules.destinationPolicy(for: access, protected: self.settings.protectedClasses)
        return true
    }

    /// Counts the session against the total, per-client and per-user limits until its client connection
    /// closes; over a limit, replies 0x01 (SOCKS4: 0x5B) and returns false.
    private func countSession(context: ChannelHandlerContext) -> Bool {
        let limits = self.settings.limits
        guard self.settings.maxSessions != nil || limits.sessionsPerClient != nil || limits.sessionsPerUser != nil else {
            // No session limit: no lock and no close callback per session. (A limit set by a reload counts
            // the sessions admitted after it.)
            return true
        }
        let client = self.record.clientAddress?.ipAddress ?? "-"
        let user = self.record.user
        let sessions = self.settings.shared.sessions
        if let limit = sessions.admit(client: client, user: user, maximum: self.settings.maxSessions, limits: self.settings.limits) {
            self.record.failure = "limit \(limit) reached"
            self.fail(.generalFailure, context: context)
            return false
        }
        context.channel.closeFuture.whenComplete { _ in
            sessions.release(client: client, user: user)
        }
        return true
    }

    private func deny(by rule: String, context: ChannelHandlerContext) {
        self.record.rule = rule
        self.record.failure = "denied by \(rule)"
        self.fail(.notAllowedByRuleset, context: context)
    }

    private func connect(to destination: SOCKSEndpoint, context: ChannelHandlerContext) {
        self.settings.dialer.dial(destination, on: context.eventLoop, timeout: self.settings.connectTimeout, policy: self.policy)
            .hop(to: context.eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let target):
                    self.relay(to: target, bound: target.localAddress.map(SOCKSEndpoint.init) ?? .unspecified, context: context)
                case .failure(let error):
                    guard context.channel.isActive else { return }
                    self.settings.logger.debug(
                        "connect failed",
                        metadata: ["destination": "\(destination)", "error": "\(error)"]
                    )
                    self.record.failure = "\(error)"
                    if let denied = error as? DestinationDenied {
                        self.record.rule = denied.rule
                    }
                    self.fail(SOCKSFailureCause(connectError: error), context: context)
                }
            }
    }

    /// Sends the success reply naming `bound` and hands the connection to a relay with `target`.
    private func relay(to target: any Channel, bound: SOCKSEndpoint, context: ChannelHandlerContext) {
        guard context.channel.isActive, self.phase == .executing || self.phase == .awaitingPeer else {
            target.close(promise: nil)
            return
        }
        guard let reply = self.stateMachine.requestSucceeded(bound: bound) else {
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        self.deadline?.cancel()
        self.deadline = nil
        self.record.reply = reply
        self.write(reply, context: context)
        context.flush()

        let (clientSide, targetSide) = RelayHandler.matchedPair()
        clientSide.throttle = self.throttle(.up)
        targetSide.throttle = self.throttle(.down)
        do {
            if let throttle = clientSide.throttle {
                try RelayTuning.limitReads(context.channel, to: throttle.maximumRead)
            }
            if let throttle = targetSide.throttle {
                try RelayTuning.limitReads(target, to: throttle.maximumRead)
            }
            try context.pipeline.syncOperations.addHandler(clientSide, position: .after(self))
            try target.pipeline.syncOperations.addHandler(targetSide)
            try target.syncOptions?.setOption(.autoRead, value: true)
        } catch {
            self.record.failure = "\(error)"
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        self.record.connectedAddress = target.remoteAddress
        self.phase = .relaying
        RelaySession(
            client: clientSide,
            target: targetSide,
            clientChannel: context.channel,
            targetChannel: target,
            record: self.record,
            settings: self.settings
        ).start()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The buckets one direction of the session reads against: its own rate, and its user's shared one.
    private func throttle(_ direction: UserBuckets.Direction) -> RelayThrottle? {
        func rate(_ bandwidth: Bandwidth?) -> Int? {
            direction == .up ? bandwidth?.up : bandwidth?.down
        }
        let own = rate(self.settings.sessionBandwidth).map { TokenBucket(rate: $0) }
        var shared: TokenBucket?
        if let user = self.record.user, let perUser = rate(self.settings.userBandwidth) {
            shared = self.settings.shared.userBuckets.bucket(user: user, scope: self.settings.userBandwidthScope, direction: direction, rate: perUser)
        }
        return RelayThrottle([own, shared])
    }

    /// BIND: opens a listener on the address this host would use to reach the expected peer, sends the first
    /// reply, and waits for the peer under the BIND deadline.
    private func bind(expecting destination: SOCKSEndpoint, context: ChannelHandlerContext) {
        if case .name(let name) = destination.host {
            ConcurrentResolver.resolve(host: name, port: Int(destination.port), on: context.eventLoop)
                .assumeIsolated()
                .whenComplete { result in
                    guard context.channel.isActive, self.phase == .executing else { return }
                    switch result {
                    case .success(let addresses) where !addresses.isEmpty:
                        self.openBindListener(expecting: addresses, context: context)
                    case .success, .failure:
                        self.fail(.nameNotResolved, context: context)
                    }
                }
        } else {
            self.openBindListener(expecting: destination.socketAddress.map { [$0] } ?? [], context: context)
        }
    }

    private func openBindListener(expecting peers: [SocketAddress], context: ChannelHandlerContext) {
        // DST 0.0.0.0 or :: admits any peer; the listener then uses the address the client reached us on.
        let expectedHosts = Set(peers.map { SOCKSEndpoint($0).host }.filter { $0 != .unspecifiedIPv4 && $0 != .unspecifiedIPv6 })
        let egress: SocketAddress?
        if let first = peers.first(where: { expectedHosts.contains(SOCKSEndpoint($0).host) }) {
            egress = EgressAddress.towards(first)
        } else {
            egress = context.channel.localAddress.flatMap { try? SocketAddress(ipAddress: $0.ipAddress ?? "", port: 0) }
        }
        guard let egress else {
            self.fail(.networkUnreachable, context: context)
            return
        }
        BindListener.open(
            on: context.eventLoop,
            address: egress,
            expectedHosts: expectedHosts.isEmpty ? nil : expectedHosts,
            onPeer: { result in self.bindPeerArrived(result, context: context) }
        )
        .assumeIsolated()
        .whenComplete { result in
            switch result {
            case .success(let listener):
                guard context.channel.isActive, self.phase == .executing,
                    let local = listener.localAddress,
                    let first = self.stateMachine.bindListening(bound: SOCKSEndpoint(local))
                else {
                    listener.close()
                    return
                }
                self.bindListener = listener
                self.phase = .awaitingPeer
                self.record.reply = first
                self.deadline?.cancel()
                self.deadline = DeadlineCallback.schedule(self, in: self.settings.bindTimeout, on: context.eventLoop)
                self.write(first, context: context)
                context.flush()
            case .failure(let error):
                self.record.failure = "\(error)"
                self.fail(.generalFailure, context: context)
            }
        }
    }

    private func bindPeerArrived(_ result: Result<any Channel, BindListener.BindFailure>, context: ChannelHandlerContext) {
        self.bindListener = nil
        guard self.phase == .awaitingPeer, context.channel.isActive else {
            if case .success(let peer) = result { peer.close(promise: nil) }
            return
        }
        switch result {
        case .success(let peer):
            if let address = peer.remoteAddress, let rule = self.policy.denial(of: address) {
                peer.close(promise: nil)
                self.record.connectedAddress = address
                self.deny(by: rule, context: context)
                return
            }
            self.relay(to: peer, bound: peer.remoteAddress.map(SOCKSEndpoint.init) ?? .unspecified, context: context)
        case .failure(let failure):
            self.fail(failure.cause, context: context)
        }
    }

    /// UDP ASSOCIATE: opens the association's client socket on the address the client reached us on, and
    /// replies with that address (or the advertised one) and the socket's port.
    private func associate(declared: SOCKSEndpoint, context: ChannelHandlerContext) {
        guard let client = context.channel.remoteAddress, let local = context.channel.localAddress else {
            self.fail(.generalFailure, context: context)
            return
        }
        UDPAssociation.open(on: context.eventLoop, client: client, declared: declared, localAddress: local, policy: self.policy)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let association):
                    guard context.channel.isActive, self.phase == .executing, let port = association.boundPort else {
                        association.close()
                        return
                    }
                    let advertised = self.settings.udpAdvertise ?? local
                    let bound = SOCKSEndpoint(host: SOCKSEndpoint(advertised).host, port: UInt16(clamping: port))
                    guard let reply = self.stateMachine.requestSucceeded(bound: bound) else {
                        association.close()
                        context.close(promise: nil)
                        return
                    }
                    self.association = association
                    self.phase = .associated
                    self.buffer = nil
                    self.record.reply = reply
                    self.deadline?.cancel()
                    self.deadline = nil
                    association.watchIdle(timeout: self.settings.udpIdleTimeout) {
                        self.record.failure = "udp idle timeout"
                        context.close(promise: nil)
                    }
                    self.write(reply, context: context)
                    context.flush()
                    if self.readHeld {
                        self.readHeld = false
                        context.read()
                    }
                case .failure(let error):
                    self.record.failure = "\(error)"
                    self.fail(.generalFailure, context: context)
                }
            }
    }

    private func closeBindListener() {
        self.bindListener?.close()
        self.bindListener = nil
    }

    private func fail(_ cause: SOCKSFailureCause, context: ChannelHandlerContext) {
        if self.record.failure == nil {
            self.record.failure = "\(cause)"
        }
        guard let reply = self.stateMachine.requestFailed(cause) else {
            context.close(promise: nil)
            return
        }
        self.closeAfterReply(reply, context: context)
    }

    /// Sends a failure reply, then a FIN, and waits a moment for the client to close before closing fully.
    ///
    /// Closing at once could turn into a reset (when unread client bytes remain in the kernel) that may
    /// overtake the reply; the lingering read drains those bytes instead.
    private func closeAfterReply(_ reply: SOCKSServerMessage, context: ChannelHandlerContext) {
        self.closeBindListener()
        self.phase = .closing
        self.buffer = nil
        self.record.reply = reply
        self.deadline?.cancel()
        self.deadline = DeadlineCallback.schedule(self, in: self.settings.lingerTimeout, on: context.eventLoop)
        self.write(reply, context: context)
        context.flush()
        context.close(mode: .output, promise: nil)
        if self.readHeld {
            self.readHeld = false
            context.read()
        }
    }

    private func deadlinePassed(context: ChannelHandlerContext) {
        self.deadline = nil
        switch self.phase {
        case .handshaking:
            self.settings.logger.debug("handshake deadline passed", metadata: ["client": "\(self.record.clientAddress.map(SessionRecord.format) ?? "-")"])
            self.record.failure = "handshake timeout"
            self.phase = .closing
            context.close(promise: nil)
        case .executing:
            // The request itself is taking too long (a dial that outlives the handshake deadline).
            self.record.failure = "handshake timeout"
            self.fail(.connectTimeout, context: context)
        case .awaitingPeer:
            self.record.failure = "no BIND peer within the deadline"
            self.fail(.acceptTimeout, context: context)
        case .closing, .relaying, .associated:
            context.close(promise: nil)
        }
    }

    private func append(_ incoming: inout ByteBuffer) {
        guard var existing = self.buffer else {
            self.buffer = incoming
            return
        }
        self.buffer = nil  // keeps the storage uniquely referenced, so the append does not copy
        existing.writeBuffer(&incoming)
        self.buffer = existing
    }

    private func write(_ message: SOCKSServerMessage, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 24)
        out.writeSOCKSServerMessage(message)
        context.write(self.wrapOutboundOut(out), promise: nil)
    }
}

extension SOCKSServerHandshakeHandler: DeadlineTarget {
    func deadlinePassed() {
        guard let context = self.context else { return }
        self.deadlinePassed(context: context)
    }
}

@available(*, unavailable)
extension SOCKSServerHandshakeHandler: Sendable {}
