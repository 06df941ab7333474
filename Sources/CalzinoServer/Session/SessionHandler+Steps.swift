import CalzinoPolicy
import NIOCore
import SOCKSCore

// The steps of a request: each starts a named piece (an authenticator, admission, `DialStep`, `BindStep`,
// `AssociationStep`) and passes what it reports to the state machine; and the two hand-overs that end the
// handshake (to the relay, to a UDP association).
extension SessionHandler: SessionStepReceiver {
    /// A step finished: its completion goes to the state machine, what it brought to the action.
    /// What the session records of a step is written here, once the state machine has said whether the
    /// completion still counts (`.none` and `.discardLateResult` mean it came too late).
    func stepFinished(_ result: SessionStepResult) {
        let action = self.machine.completed(result.completion)
        let counts = action != .none && action != .discardLateResult
        switch result.completion {
        case .bindPeerArrived(let peer):
            self.bindListener = nil  // a peer came: the listener closed itself on its one connection
            if counts {
                self.ruleDecided(reaching: peer.socketAddress, name: nil)
            }
        case .bindPeerRefused:
            self.bindListener = nil
            if counts, let peer = result.peer {
                self.record.connectedAddress = peer
            }
        case .dialSucceeded where counts:
            if case .channel(let target) = result.resource {
                let name: String? = if case .name(let name) = self.record.request?.destination.host { name } else { nil }
                self.ruleDecided(reaching: target.remoteAddress, name: name)
            }
        case .identFinished(.accepted(let user?)) where counts:
            self.record.user = user  // a confirmed USERID is the session's user for rules and limits
        case .dialFailed(_, let failure) where counts:
            // Client text: escaped for a text log; a JSON handler escapes it itself.
            let text = self.settings.logFormat == .text
            let destination = self.record.request?.destination.description ?? "-"
            let error = "\(failure)"
            self.settings.logger.debug("connect failed", metadata: [
                "session": .stringConvertible(self.record.id),
                "destination": .string(text ? AccessLogText.quoted(destination) : destination),
                "error": .string(text ? AccessLogText.quoted(error) : error),
            ])
        case .authenticationFinished, .identFinished, .dialSucceeded, .dialFailed, .bindListening, .associationOpened, .setupFailed:
            break
        }
        self.perform(action, completion: result.resource)
    }

    func authenticate(_ credentials: SOCKS5UsernamePasswordRequest) {
        guard let context = self.context, let users = self.settings.users else {
            self.stepFinished(SessionStepResult(.authenticationFinished(.rejected(.notAllowedByRuleset, .authenticationFailed))))
            return
        }
        PasswordAuthenticator(users: users).authenticate(.usernamePassword(credentials), on: context.eventLoop)
            .assumeIsolated()
            .whenSuccess { self.stepFinished(SessionStepResult(.authenticationFinished($0))) }
    }

    func checkIdent(_ request: SOCKSClientRequest) {
        guard let context = self.context, let client = context.channel.remoteAddress, let server = context.channel.localAddress else {
            self.stepFinished(SessionStepResult(.identFinished(.rejected(.identdUnreachable, .refused(.identdUnreachable)))))
            return
        }
        let ident = IdentAuthenticator(mode: self.settings.ident, port: self.settings.identPort, timeout: self.settings.timeouts.ident)
        ident.authenticate(.ident(request, client: client, server: server), on: context.eventLoop)
            .assumeIsolated()
            .whenSuccess { self.stepFinished(SessionStepResult(.identFinished($0))) }
    }

    func admit(_ request: SOCKSClientRequest) {
        guard let channel = self.context?.channel else { return }
        let client = self.record.clientAddress.map { SOCKSEndpoint($0).host } ?? .unspecifiedIPv4
        switch RequestAdmission.decide(request, client: client, user: self.record.user, settings: &self.settings) {
        case .denied(let reason):
            self.perform(self.machine.admissionDecided(.refused(.notAllowedByRuleset, .denied(reason))))
        case .admitted(let terms):
            self.record.rule = terms.rule
            self.policy = terms.policy
            // Without a session limit, nothing is touched (no counter, no close callback).
            let limit = !self.settings.limits.countsSessions ? nil : self.settings.shared.sessions.count(
                channel,
                client: self.record.clientAddress,
                user: self.record.user,
                limits: self.settings.limits
            )
            if let limit {
                self.perform(self.machine.admissionDecided(.refused(.generalFailure, .limitReached(limit))))
            } else {
                self.perform(self.machine.admissionDecided(.admitted))
            }
        }
    }

    /// Issue 12, defect 6: when the rules could not decide before the destination was known (a name before
    /// it resolved, a BIND to any peer, a datagram's destination), the rule that permits the address the
    /// session actually reaches decides now: its deadlines and rates apply to what follows, and the access
    /// line names it. A connect already under way keeps the deadline it started with.
    func ruleDecided(reaching address: SocketAddress?, name: String?) {
        guard self.record.rule == nil, !self.settings.rules.isEmpty, let address,
            case .permitted(let rule) = self.policy.decision(of: address, name: name)
        else { return }
        self.ruleDecided(rule)
    }

    func ruleDecided(_ rule: AccessRule?) {
        guard self.record.rule == nil, !self.settings.rules.isEmpty else { return }
        if let rule {
            self.settings.apply(rule)
        }
        self.record.rule = .allowed(by: rule?.name)
    }

    func connect(to destination: SOCKSEndpoint) {
        guard let eventLoop = self.context?.eventLoop else { return }
        DialStep.run(
            destination,
            dialer: self.settings.dialer,
            timeout: self.settings.timeouts.connect,
            policy: self.policy,
            metrics: self.settings.metrics,
            on: eventLoop,
            reportingTo: self
        )
    }

    func openBindListener(expecting destination: SOCKSEndpoint) {
        guard let context = self.context else { return }
        BindStep.run(
            expecting: destination,
            clientReached: context.channel.localAddress,
            policy: self.policy,
            descriptors: self.settings.shared.descriptors,
            on: context.eventLoop,
            reportingTo: self
        )
    }

    func openAssociation(declared: SOCKSEndpoint) {
        guard let context = self.context, let client = context.channel.remoteAddress, let local = context.channel.localAddress else {
            self.stepFinished(.setupFailed(.refused(.generalFailure)))
            return
        }
        let terms = UDPAssociation.Terms(policy: self.policy, replies: self.settings.udpReplies, settings: self.settings, user: self.record.user)
        AssociationStep.run(declared: declared, client: client, local: local, terms: terms, on: context.eventLoop, reportingTo: self)
    }

    func startRelay(to target: any Channel, reply: SOCKSServerMessage, handover: SessionStateMachine.Handover) {
        guard let context = self.context else {
            target.close(promise: nil)
            return
        }
        self.cancelDeadline()
        self.record.reply = reply
        self.send(reply)
        guard context.channel.isActive else {
            // The client went away while the reply was written (a reset makes NIO close at once): no relay;
            // the state machine, still handing over, has the session logged.
            target.close(promise: nil)
            return
        }
        do {
            try RelayWiring.start(client: context, after: self, target: target, settings: self.settings, record: self.record)
        } catch {
            self.record.recordFailure(.setupFailed(detail: "\(error)"))
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        self.machine.relayStarted()
        self.handover = handover
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func startAssociation(_ association: UDPAssociation, reply: SOCKSServerMessage, resumeRead: Bool) {
        self.association = association
        self.record.reply = reply
        self.cancelDeadline()
        association.watchIdle(timeout: self.settings.timeouts.udpIdleLimit) {
            self.perform(self.machine.associationIdle())
        }
        // The rules may decide only with the first datagram's destination (issue 12, defect 6): that rule's
        // idle timeout applies from then on, and the access line names it.
        association.ruleDecided = { [unowned association] rule in
            guard self.record.rule == nil, !self.settings.rules.isEmpty else { return }
            self.ruleDecided(rule)
            association.changeIdleTimeout(self.settings.timeouts.udpIdleLimit)
        }
        self.send(reply)
        if resumeRead {
            self.context?.read()
        }
    }
}
