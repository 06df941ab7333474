import CalzinoPolicy
import Logging
import NIOCore
import SOCKSCore

/// Runs one client connection until the relay takes over: feeds every event to `SessionStateMachine` and
/// carries out the actions it returns. The decisions are the state machine's; the work is done by the named
/// pieces around it (authenticators, `RequestAdmission`, the dialer, `BindListener`, `UDPAssociation`,
/// `RelayWiring`). On the hand-over it leaves the pipeline, passing on the bytes the client sent behind its
/// request, then a pending EOF, then a held read.
final class SessionHandler {
    private var machine: SessionStateMachine
    private var context: ChannelHandlerContext?
    /// The deadline in force: the handshake's, then the BIND peer's, or the linger after a failure reply.
    private var deadline: NIOScheduledCallback?
    private var bindListener: BindListener?
    private var association: UDPAssociation?
    private var handover: SessionStateMachine.Handover?
    /// The listener's settings, with the deciding rule's overrides once the request is admitted.
    private var settings: SessionSettings
    /// What the request's destinations (each resolved address, the BIND peer, each datagram) must pass.
    private var policy: DestinationPolicy = .allowAll
    private let record: SessionRecord

    init(settings: SessionSettings, record: SessionRecord) {
        self.settings = settings
        self.record = record
        self.machine = SessionStateMachine(acceptedMethods: settings.acceptedMethods, checksIdent: settings.ident != .off)
    }

    /// What an asynchronous completion brought, to be used by its action or closed.
    private enum Completion {
        case channel(any Channel)
        case listener(BindListener)
        case association(UDPAssociation)

        func discard() {
            switch self {
            case .channel(let channel): channel.close(promise: nil)
            case .listener(let listener): listener.close()
            case .association(let association): association.close()
            }
        }
    }
}

extension SessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The handshake deadline covers everything up to the reply, the connect included; the connect has its
        // own, shorter or longer, timeout too.
        self.setDeadline(self.settings.handshakeTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelDeadline()
        self.context = nil
        guard let handover = self.handover else { return }
        self.handover = nil
        // In this order: the bytes the client sent behind its request, the EOF if it came, a held read.
        if let pipelined = handover.pipelined, pipelined.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(pipelined))
            context.fireChannelReadComplete()
        }
        if handover.inputClosed {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        if handover.resumeRead {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.perform(self.machine.channelClosed())
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.machine.receivedBytes(&incoming)
        self.perform(self.machine.parseBuffered())
    }

    func read(context: ChannelHandlerContext) {
        if self.machine.readRequested() {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, case .inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.perform(self.machine.inputClosed())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.settings.logger.debug("client connection error", metadata: ["error": "\(error)"])
        self.perform(self.machine.connectionFailed("\(error)"))
    }
}

// MARK: Carrying out actions

extension SessionHandler {
    private func perform(_ action: SessionStateMachine.Action, completion: Completion? = nil) {
        switch action {
        case .none:
            completion?.discard()
        case .send(let message):
            self.send(message)
            self.perform(self.machine.parseBuffered())
        case .authenticate(let credentials):
            self.authenticate(credentials)
        case .authenticated(let user, let response):
            self.record.user = user
            self.send(response)
            self.perform(self.machine.parseBuffered())
        case .requestReceived(let request):
            self.record.request = request
            self.perform(self.machine.carryOut())
        case .checkIdent(let request):
            self.checkIdent(request)
        case .admit(let request):
            self.admit(request)
        case .connect(let destination):
            self.connect(to: destination)
        case .openBindListener(let destination):
            self.openBindListener(expecting: destination)
        case .openAssociation(let declared):
            self.openAssociation(declared: declared)
        case .awaitPeer(let firstReply):
            guard case .listener(let listener) = completion else {
                completion?.discard()
                return
            }
            self.bindListener = listener
            self.record.reply = firstReply
            self.setDeadline(self.settings.bindTimeout)
            self.send(firstReply)
        case .startRelay(let reply, let handover):
            guard case .channel(let target) = completion else {
                completion?.discard()
                self.context?.close(promise: nil)
                return
            }
            self.startRelay(to: target, reply: reply, handover: handover)
        case .startAssociation(let reply, let resumeRead):
            guard case .association(let association) = completion else {
                completion?.discard()
                self.context?.close(promise: nil)
                return
            }
            self.startAssociation(association, reply: reply, resumeRead: resumeRead)
        case .failAndLinger(let reply, let failure, let resumeRead):
            completion?.discard()
            self.failAndLinger(reply: reply, failure: failure, resumeRead: resumeRead)
        case .close(let failure):
            completion?.discard()
            if let failure {
                self.record.recordFailure(failure)
            }
            self.context?.close(promise: nil)
        case .discardLateResult:
            completion?.discard()
        case .sessionEnded(let logRecord):
            completion?.discard()
            self.sessionEnded(logRecord: logRecord)
        }
    }

    private func send(_ message: SOCKSServerMessage) {
        guard let context = self.context else { return }
        var out = context.channel.allocator.buffer(capacity: 24)
        out.writeSOCKSServerMessage(message)
        context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
    }

    /// Sends a failure reply, then a FIN, and waits a moment for the client to close before closing fully.
    ///
    /// Closing at once could turn into a reset (when unread client bytes remain in the kernel) that may
    /// overtake the reply; the lingering read drains those bytes instead.
    private func failAndLinger(reply: SOCKSServerMessage, failure: SessionFailure, resumeRead: Bool) {
        self.record.recordFailure(failure)
        self.closeBindListener()
        self.record.reply = reply
        self.setDeadline(self.settings.lingerTimeout)
        self.send(reply)
        guard let context = self.context else { return }
        context.close(mode: .output, promise: nil)
        if resumeRead {
            context.read()
        }
    }

    private func sessionEnded(logRecord: Bool) {
        // A session that never reached the relay ends with its client connection; a relayed one ends in its
        // RelaySession, once both of its channels have closed.
        self.cancelDeadline()
        self.closeBindListener()
        if let association = self.association {
            association.close()
            self.association = nil
            self.record.udp = association.counters
        }
        if logRecord {
            self.record.log(to: self.settings.accessLogger)
        }
    }

    private func setDeadline(_ delay: TimeAmount) {
        self.deadline?.cancel()
        guard let context = self.context else { return }
        self.deadline = DeadlineCallback.schedule(self, in: delay, on: context.eventLoop)
    }

    private func cancelDeadline() {
        self.deadline?.cancel()
        self.deadline = nil
    }

    private func closeBindListener() {
        self.bindListener?.close()
        self.bindListener = nil
    }
}

// MARK: The steps of a request

extension SessionHandler {
    private func authenticate(_ credentials: SOCKS5UsernamePasswordRequest) {
        guard let context = self.context, let users = self.settings.users else {
            self.perform(self.machine.authenticationFinished(.rejected(.notAllowedByRuleset, .authenticationFailed)))
            return
        }
        PasswordAuthenticator(users: users).authenticate(.usernamePassword(credentials), on: context.eventLoop)
            .assumeIsolated()
            .whenSuccess { outcome in
                self.perform(self.machine.authenticationFinished(outcome))
            }
    }

    private func checkIdent(_ request: SOCKSClientRequest) {
        guard let context = self.context, let client = context.channel.remoteAddress, let server = context.channel.localAddress else {
            self.perform(self.machine.identFinished(.rejected(.identdUnreachable, .refused(.identdUnreachable))))
            return
        }
        let ident = IdentAuthenticator(mode: self.settings.ident, port: self.settings.identPort, timeout: self.settings.identTimeout)
        ident.authenticate(.ident(request, client: client, server: server), on: context.eventLoop)
            .assumeIsolated()
            .whenSuccess { outcome in
                let action = self.machine.identFinished(outcome)
                if case .admit = action, case .accepted(let user?) = outcome {
                    self.record.user = user
                }
                self.perform(action)
            }
    }

    private func admit(_ request: SOCKSClientRequest) {
        let client = self.record.clientAddress.map { SOCKSEndpoint($0).host } ?? .unspecifiedIPv4
        switch RequestAdmission.decide(request, client: client, user: self.record.user, settings: self.settings) {
        case .denied(let reason):
            self.record.rule = .denied(reason)
            self.perform(self.machine.admissionDecided(.refused(.notAllowedByRuleset, .denied(reason))))
        case .admitted(let terms):
            if let rule = terms.rule {
                self.record.rule = rule
            }
            self.settings = terms.settings
            if let limit = self.countSession() {
                self.perform(self.machine.admissionDecided(.refused(.generalFailure, .limitReached(limit))))
                return
            }
            self.policy = terms.policy
            self.perform(self.machine.admissionDecided(.admitted))
        }
    }

    /// Counts the session against the total, per-client and per-user limits until its client connection
    /// closes; returns the limit it would pass instead (and counts nothing).
    private func countSession() -> String? {
        let limits = self.settings.limits
        guard self.settings.maxSessions != nil || limits.sessionsPerClient != nil || limits.sessionsPerUser != nil,
            let channel = self.context?.channel
        else {
            // No session limit: no lock and no close callback per session. (A limit set by a reload counts
            // the sessions admitted after it.)
            return nil
        }
        let client = self.record.clientAddress?.ipAddress ?? "-"
        let user = self.record.user
        let sessions = self.settings.shared.sessions
        if let limit = sessions.admit(client: client, user: user, maximum: self.settings.maxSessions, limits: limits) {
            return limit
        }
        channel.closeFuture.whenComplete { _ in
            sessions.release(client: client, user: user)
        }
        return nil
    }

    private func connect(to destination: SOCKSEndpoint) {
        guard let eventLoop = self.context?.eventLoop else { return }
        self.settings.dialer.dial(destination, on: eventLoop, timeout: self.settings.connectTimeout, policy: self.policy)
            .hop(to: eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let target):
                    let bound = target.localAddress.map(SOCKSEndpoint.init) ?? .unspecified
                    self.perform(self.machine.dialSucceeded(bound: bound), completion: .channel(target))
                case .failure(let error):
                    let cause = SOCKSFailureCause(connectError: error)
                    let action = self.machine.dialFailed(cause, failure: .connectFailed(cause, detail: "\(error)"))
                    if action != .none {
                        self.settings.logger.debug("connect failed", metadata: ["destination": "\(destination)", "error": "\(error)"])
                        if let denied = error as? DestinationDenied {
                            self.record.rule = .denied(denied.reason)
                        }
                    }
                    self.perform(action)
                }
            }
    }

    private func startRelay(to target: any Channel, reply: SOCKSServerMessage, handover: SessionStateMachine.Handover) {
        guard let context = self.context else {
            target.close(promise: nil)
            return
        }
        self.cancelDeadline()
        self.record.reply = reply
        self.send(reply)
        do {
            try RelayWiring.start(client: context, after: self, target: target, settings: self.settings, record: self.record)
        } catch {
            self.record.recordFailure(.setupFailed(detail: "\(error)"))
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        self.handover = handover
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func openBindListener(expecting destination: SOCKSEndpoint) {
        guard let context = self.context else { return }
        BindListener.open(
            expecting: destination,
            clientReached: context.channel.localAddress,
            on: context.eventLoop,
            onPeer: { result in self.bindPeerArrived(result) }
        )
        .assumeIsolated()
        .whenComplete { result in
            switch result {
            case .success(let listener):
                guard let local = listener.localAddress else {
                    listener.close()
                    self.perform(self.machine.setupFailed(.generalFailure, failure: .setupFailed(detail: "BIND listener has no address")))
                    return
                }
                self.perform(self.machine.bindListening(bound: SOCKSEndpoint(local)), completion: .listener(listener))
            case .failure(let error):
                let failure = error as? BindListener.BindFailure
                self.perform(self.machine.setupFailed(failure?.cause ?? .generalFailure, failure: failure?.failure ?? .setupFailed(detail: "\(error)")))
            }
        }
    }

    private func bindPeerArrived(_ result: Result<any Channel, BindListener.BindFailure>) {
        self.bindListener = nil
        switch result {
        case .success(let peer):
            if let address = peer.remoteAddress, let reason = self.policy.denial(of: address) {
                let action = self.machine.bindPeerRefused(.notAllowedByRuleset, failure: .denied(reason))
                if action != .none {
                    self.record.connectedAddress = address
                    self.record.rule = .denied(reason)
                }
                peer.close(promise: nil)
                self.perform(action)
                return
            }
            let bound = peer.remoteAddress.map(SOCKSEndpoint.init) ?? .unspecified
            self.perform(self.machine.bindPeerArrived(bound), completion: .channel(peer))
        case .failure(let failure):
            self.perform(self.machine.bindPeerRefused(failure.cause, failure: failure.failure))
        }
    }

    /// UDP ASSOCIATE: opens the association's client socket on the address the client reached us on; the
    /// reply names that address (or the advertised one) and the socket's port.
    private func openAssociation(declared: SOCKSEndpoint) {
        guard let context = self.context, let client = context.channel.remoteAddress, let local = context.channel.localAddress else {
            self.perform(self.machine.setupFailed(.generalFailure, failure: .refused(.generalFailure)))
            return
        }
        let advertised = self.settings.udpAdvertise ?? local
        UDPAssociation.open(on: context.eventLoop, client: client, declared: declared, localAddress: local, policy: self.policy)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let association):
                    guard let port = association.boundPort else {
                        association.close()
                        self.perform(self.machine.setupFailed(.generalFailure, failure: .setupFailed(detail: "UDP socket has no port")))
                        return
                    }
                    let bound = SOCKSEndpoint(host: SOCKSEndpoint(advertised).host, port: UInt16(clamping: port))
                    self.perform(self.machine.associationOpened(bound: bound), completion: .association(association))
                case .failure(let error):
                    self.perform(self.machine.setupFailed(.generalFailure, failure: .setupFailed(detail: "\(error)")))
                }
            }
    }

    private func startAssociation(_ association: UDPAssociation, reply: SOCKSServerMessage, resumeRead: Bool) {
        self.association = association
        self.record.reply = reply
        self.cancelDeadline()
        association.watchIdle(timeout: self.settings.udpIdleTimeout) {
            self.perform(self.machine.associationIdle())
        }
        self.send(reply)
        if resumeRead {
            self.context?.read()
        }
    }
}

extension SessionHandler: DeadlineTarget {
    func deadlinePassed() {
        self.deadline = nil
        let action = self.machine.deadlinePassed()
        if action == .close(.handshakeTimeout) {
            self.settings.logger.debug(
                "handshake deadline passed",
                metadata: ["client": "\(self.record.clientAddress.map(SessionRecord.format) ?? "-")"]
            )
        }
        self.perform(action)
    }
}

@available(*, unavailable)
extension SessionHandler: Sendable {}
