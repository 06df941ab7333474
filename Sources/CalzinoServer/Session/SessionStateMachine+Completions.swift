import SOCKSCore

// MARK: Completions

extension SessionStateMachine {
    /// A step finished; one entry for every kind of completion.
    mutating func completed(_ completion: SessionCompletion) -> Action {
        switch completion {
        case .authenticationFinished(let outcome): return self.authenticationFinished(outcome)
        case .identFinished(let outcome): return self.identFinished(outcome)
        case .dialSucceeded(let bound): return self.dialSucceeded(bound: bound)
        case .dialFailed(let cause, let failure): return self.dialFailed(cause, failure: failure)
        case .bindListening(let bound): return self.bindListening(bound: bound)
        case .bindPeerArrived(let peer): return self.bindPeerArrived(peer)
        case .bindPeerRefused(let cause, let failure): return self.bindPeerRefused(cause, failure: failure)
        case .associationOpened(let bound): return self.associationOpened(bound: bound)
        case .setupFailed(let cause, let failure): return self.setupFailed(cause, failure: failure)
        }
    }

    /// RFC 1929: the check of the credentials finished.
    mutating func authenticationFinished(_ outcome: AuthenticationOutcome) -> Action {
        guard case .handshaking(authenticating: true) = self.state else {
            return .none  // the deadline answered, or the client left, while the check ran
        }
        self.state = .handshaking(authenticating: false)
        switch outcome {
        case .accepted(let user?):
            guard let response = self.handshake.authenticationSucceeded() else {
                self.state = .closing
                return .close(nil)
            }
            let resumeRead = self.readHeld
            self.readHeld = false
            return .authenticated(user: user, response: response, resumeRead: resumeRead)
        case .accepted(nil), .rejected:
            // RFC 1929 names the user: an outcome without one is a refusal.
            guard let response = self.handshake.authenticationFailed() else {
                self.state = .closing
                return .close(.authenticationFailed)
            }
            return self.failAndLinger(reply: response, failure: .authenticationFailed)
        }
    }

    /// RFC 1413: the ident check finished. `.accepted` goes on to admission (the handler has recorded a
    /// confirmed user); `.rejected` answers with its cause.
    mutating func identFinished(_ outcome: AuthenticationOutcome) -> Action {
        guard self.state == .executing(.ident), let request = self.request else {
            return .none
        }
        switch outcome {
        case .accepted:
            self.state = .executing(.admission)
            return .admit(request)
        case .rejected(let cause, let failure):
            return self.fail(cause, failure: failure)
        }
    }

    /// The rules and limits decided the request.
    mutating func admissionDecided(_ decision: AdmissionOutcome) -> Action {
        guard self.state == .executing(.admission), let request = self.request else {
            return .none
        }
        switch decision {
        case .admitted:
            switch request.command {
            case .connect:
                self.state = .executing(.dial)
                return .connect(request.destination)
            case .bind:
                self.state = .executing(.bindListener)
                return .openBindListener(request.destination)
            case .udpAssociate:
                self.state = .executing(.association)
                return .openAssociation(declared: request.destination)
            case .unknown:
                return self.fail(.commandNotSupported, failure: .refused(.commandNotSupported))
            }
        case .refused(let cause, let failure):
            return self.fail(cause, failure: failure)
        }
    }

    /// CONNECT: the outbound connection is up; its local address is `bound`.
    mutating func dialSucceeded(bound: SOCKSEndpoint) -> Action {
        guard self.state == .executing(.dial) else {
            return .discardLateResult
        }
        return self.succeed(bound: bound)
    }

    /// CONNECT: the dial failed.
    mutating func dialFailed(_ cause: SOCKSFailureCause, failure: SessionFailure) -> Action {
        guard self.state == .executing(.dial) else {
            // Late: the deadline has answered already (and lingers), or the client has gone. Nothing to add.
            return .none
        }
        return self.fail(cause, failure: failure)
    }

    /// BIND: the listener is open on `bound`.
    mutating func bindListening(bound: SOCKSEndpoint) -> Action {
        guard self.state == .executing(.bindListener), let reply = self.handshake.bindListening(bound: bound) else {
            return .discardLateResult
        }
        self.state = .awaitingPeer
        return .awaitPeer(firstReply: reply)
    }

    /// BIND: the peer connected from `peer` and passed the checks.
    mutating func bindPeerArrived(_ peer: SOCKSEndpoint) -> Action {
        guard self.state == .awaitingPeer else {
            return .discardLateResult
        }
        return self.succeed(bound: peer)
    }

    /// BIND: a peer connected and was refused (by the rules, or not the peer the client named).
    mutating func bindPeerRefused(_ cause: SOCKSFailureCause, failure: SessionFailure) -> Action {
        guard self.state == .awaitingPeer else {
            return .none
        }
        return self.fail(cause, failure: failure)
    }

    /// UDP ASSOCIATE: the association is open; the reply names `bound`.
    mutating func associationOpened(bound: SOCKSEndpoint) -> Action {
        guard self.state == .executing(.association) else {
            return .discardLateResult
        }
        guard let reply = self.handshake.requestSucceeded(bound: bound) else {
            self.state = .closing
            return .close(nil)
        }
        self.state = .associated
        self.buffer = nil
        let resumeRead = self.readHeld
        self.readHeld = false
        return .startAssociation(reply: reply, resumeRead: resumeRead)
    }

    /// UDP ASSOCIATE: no datagram moved for the idle timeout.
    mutating func associationIdle() -> Action {
        guard self.state == .associated else {
            return .none
        }
        self.state = .closing
        return .close(.udpIdleTimeout)
    }

    /// A socket the request needs (the BIND listener, the UDP association) could not be opened, or the name
    /// a BIND expects its peer from did not resolve.
    mutating func setupFailed(_ cause: SOCKSFailureCause, failure: SessionFailure) -> Action {
        switch self.state {
        case .executing(.bindListener), .executing(.association):
            return self.fail(cause, failure: failure)
        case .handshaking, .executing, .awaitingPeer, .associated, .closing, .handingOver, .relaying, .closed:
            return .none
        }
    }

    /// The deadline in force passed: the handshake deadline (accept to reply), the BIND deadline (first reply
    /// to peer), or the linger after a failure reply.
    mutating func deadlinePassed() -> Action {
        switch self.state {
        case .handshaking:
            self.state = .closing
            return .close(.handshakeTimeout)
        case .executing:
            // The request itself is taking too long (a dial that outlives the handshake deadline).
            return self.fail(.connectTimeout, failure: .handshakeTimeout)
        case .awaitingPeer:
            return self.fail(.acceptTimeout, failure: .bindPeerTimeout)
        case .closing, .associated:
            self.state = .closing
            return .close(nil)
        case .handingOver, .relaying, .closed:
            return .none
        }
    }
}

// MARK: Outcomes

extension SessionStateMachine {
    mutating func succeed(bound: SOCKSEndpoint) -> Action {
        guard let reply = self.handshake.requestSucceeded(bound: bound) else {
            self.state = .closing
            return .close(nil)
        }
        self.state = .handingOver
        let handover = Handover(pipelined: self.buffer, inputClosed: self.pendingEOF, resumeRead: self.readHeld)
        self.buffer = nil
        self.readHeld = false
        return .startRelay(reply: reply, handover)
    }

    mutating func fail(_ cause: SOCKSFailureCause, failure: SessionFailure) -> Action {
        guard let reply = self.handshake.requestFailed(cause) else {
            self.state = .closing
            return .close(failure)
        }
        return self.failAndLinger(reply: reply, failure: failure)
    }

    mutating func failAndLinger(reply: SOCKSServerMessage, failure: SessionFailure) -> Action {
        self.state = .closing
        self.buffer = nil
        let resumeRead = self.readHeld
        self.readHeld = false
        return .failAndLinger(reply: reply, failure: failure, resumeRead: resumeRead)
    }
}
