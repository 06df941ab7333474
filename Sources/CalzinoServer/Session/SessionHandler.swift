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
    var machine: SessionStateMachine
    var context: ChannelHandlerContext?
    /// The deadline in force: the handshake's, then the BIND peer's, or the linger after a failure reply.
    private var deadline: NIOScheduledCallback?
    var bindListener: BindListener?
    var association: UDPAssociation?
    var handover: SessionStateMachine.Handover?
    /// The listener's settings, with the deciding rule's overrides once the request is admitted.
    var settings: SessionSettings
    /// What the request's destinations (each resolved address, the BIND peer, each datagram) must pass.
    var policy: DestinationPolicy = .allowAll
    let record: SessionRecord

    init(settings: SessionSettings, record: SessionRecord) {
        self.settings = settings
        self.record = record
        self.machine = SessionStateMachine(acceptedMethods: settings.acceptedMethods, checksIdent: settings.ident != .off)
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
        self.setDeadline(self.settings.timeouts.handshake)
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
        self.settings.logger.debug("client connection error", metadata: ["session": .stringConvertible(self.record.id), "error": "\(error)"])
        self.perform(self.machine.connectionFailed("\(error)"))
    }
}

// MARK: Carrying out actions

extension SessionHandler {
    func perform(_ action: SessionStateMachine.Action, completion: SessionResource? = nil) {
        switch action {
        case .none:
            completion?.discard()
        case .send(let message):
            self.send(message)
            self.perform(self.machine.parseBuffered())
        case .authenticate(let credentials):
            self.authenticate(credentials)
        case .authenticated(let user, let response, let resumeRead):
            self.record.user = user
            self.send(response)
            self.perform(self.machine.parseBuffered())
            if resumeRead, self.machine.readRequested() {
                self.context?.read()
            }
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
            self.setDeadline(self.settings.timeouts.bind)
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

    func send(_ message: SOCKSServerMessage) {
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
            self.record.finish(self.settings)
        }
    }

    private func setDeadline(_ delay: TimeAmount) {
        self.deadline?.cancel()
        guard let context = self.context else { return }
        self.deadline = DeadlineCallback.schedule(self, in: delay, on: context.eventLoop)
    }

    func cancelDeadline() {
        self.deadline?.cancel()
        self.deadline = nil
    }

    private func closeBindListener() {
        self.bindListener?.close()
        self.bindListener = nil
    }
}

extension SessionHandler: DeadlineTarget {
    func deadlinePassed() {
        self.deadline = nil
        let action = self.machine.deadlinePassed()
        if action == .close(.handshakeTimeout) {
            self.settings.logger.debug(
                "handshake deadline passed",
                metadata: ["session": .stringConvertible(self.record.id), "client": "\(self.record.clientAddress.map(AddressText.format) ?? "-")"]
            )
        }
        self.perform(action)
    }
}

@available(*, unavailable)
extension SessionHandler: Sendable {}
