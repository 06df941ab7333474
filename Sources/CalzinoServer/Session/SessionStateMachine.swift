import CalzinoPolicy
import NIOCore
import SOCKSCore

/// One client connection from its first byte until the relay takes over, or until it closes. Pure: it sees
/// events (bytes, the end of input, a read asked for, each asynchronous completion, each deadline) and
/// returns what to do; it never touches a socket, so every state and event is tested as a table
/// (`SessionStateMachineTests`).
///
/// It holds the bytes a client sends behind its request, and an EOF that comes with them, until the relay
/// takes them (`Handover`). A completion that arrives late (a dial or a verification that finishes after a
/// deadline answered, after a failure reply, after the close) is an event like any other and is answered
/// here, in one place, usually by discarding what it brought.
///
/// The wire side of the handshake is `SOCKSServerHandshakeStateMachine` (SOCKSCore), driven from here.
struct SessionStateMachine {
    private enum State: Hashable {
        /// Reading the greeting, credentials and request. `authenticating`: credentials are being checked;
        /// the bytes behind them wait.
        case handshaking(authenticating: Bool)
        /// The request is read and being carried out; bytes are kept for the relay.
        case executing(Step)
        /// BIND: the first reply is out; waiting for the peer. Bytes are kept as while executing.
        case awaitingPeer
        /// UDP ASSOCIATE: the reply is out; the control connection carries nothing more and its end ends
        /// the association.
        case associated
        /// A failure reply was sent (or the connection is being closed without one): input is read and thrown
        /// away until the client closes or the linger deadline passes.
        case closing
        /// The relay took over.
        case relaying
        /// The client connection is closed.
        case closed
    }

    /// What an executing request is waiting for.
    enum Step: Hashable, Sendable {
        case ident
        case admission
        case dial
        case bindListener
        case association
    }

    private var state: State = .handshaking(authenticating: false)
    private var handshake: SOCKSServerHandshakeStateMachine
    private var request: SOCKSClientRequest?
    /// Bytes received and not yet parsed (handshaking) or kept for the relay (executing, awaiting the peer).
    private var buffer: ByteBuffer?
    /// The client sent EOF while the request ran: the relay gets it after the pipelined bytes.
    private var pendingEOF = false
    /// A `read()` was held back because enough pipelined bytes wait; it is passed on when the session moves on.
    private var readHeld = false
    private let checksIdent: Bool

    /// Pipelined bytes kept while a request runs before reads are held. Reading goes on below it, so the usual
    /// client, which sends nothing before the reply, costs no interest changes on the socket; past it, one
    /// read burst at most is added.
    static let pipelinedBytesBeforeHoldingReads = 16 * 1024

    /// - Parameters:
    ///   - acceptedMethods: the SOCKS5 methods the listener accepts, most preferred first.
    ///   - checksIdent: SOCKS4 requests wait for an RFC 1413 check before admission.
    init(acceptedMethods: [SOCKS5AuthMethod], checksIdent: Bool) {
        // SOCKS4 is parsed on every listener; one with users admits it only through a rule (admission).
        self.handshake = SOCKSServerHandshakeStateMachine(acceptedMethods: acceptedMethods)
        self.checksIdent = checksIdent
    }

    /// What the relay takes over from the handshake: the bytes behind the request, then the EOF if it came,
    /// then a read held back.
    struct Handover: Hashable {
        var pipelined: ByteBuffer?
        var inputClosed: Bool
        var resumeRead: Bool
    }

    enum Action: Hashable {
        /// Nothing to do now.
        case none
        /// Send the message (a method selection), then call `parseBuffered()` for what follows it.
        case send(SOCKSServerMessage)
        /// The request is complete: record it, then call `carryOut()`. Bytes behind it belong to the relay.
        case requestReceived(SOCKSClientRequest)
        /// Check the RFC 1929 credentials (off the event loop), then call `authenticationFinished`.
        case authenticate(SOCKS5UsernamePasswordRequest)
        /// The credentials were right: the session's user is `user`; send the response, then call
        /// `parseBuffered()` for the request behind it.
        case authenticated(user: String, response: SOCKSServerMessage)
        /// Ask the client's identd about the request (SOCKS4), then call `identFinished`.
        case checkIdent(SOCKSClientRequest)
        /// Decide the request by the rules and limits, then call `admissionDecided`.
        case admit(SOCKSClientRequest)
        /// Dial the destination, then call `dialSucceeded` or `dialFailed`.
        case connect(SOCKSEndpoint)
        /// Open a BIND listener for a peer from the destination, then call `bindListening` or `setupFailed`.
        case openBindListener(SOCKSEndpoint)
        /// Open the UDP association, then call `associationOpened` or `setupFailed`.
        case openAssociation(declared: SOCKSEndpoint)
        /// BIND: send the first reply and wait for the peer under the BIND deadline.
        case awaitPeer(firstReply: SOCKSServerMessage)
        /// Cancel the deadline, send the success reply and hand the connection to the relay.
        case startRelay(reply: SOCKSServerMessage, Handover)
        /// UDP ASSOCIATE: cancel the deadline, send the reply, resume reading (and discarding) if a read was held.
        case startAssociation(reply: SOCKSServerMessage, resumeRead: Bool)
        /// Send the failure reply, shut the output, and read until the client closes or the linger deadline
        /// passes; close any BIND listener. Resume reading if a read was held.
        case failAndLinger(reply: SOCKSServerMessage, failure: SessionFailure, resumeRead: Bool)
        /// Close the client connection (after recording `failure`, when there is one).
        case close(SessionFailure?)
        /// A completion came too late for a session that has moved on: close what it brought (the dialed or
        /// accepted channel, the BIND listener, the association).
        case discardLateResult
        /// The client connection closed: release what the session holds, and write its access line unless
        /// the relay will.
        case sessionEnded(logRecord: Bool)
    }
}

// MARK: Bytes, reads and the end of input

extension SessionStateMachine {
    /// Bytes arrived from the client. While handshaking they are parsed (call `parseBuffered()` for the
    /// action); while the request runs they are kept for the relay; after a failure reply, or on a UDP
    /// control connection, they are thrown away.
    mutating func receivedBytes(_ incoming: inout ByteBuffer) {
        switch self.state {
        case .handshaking, .executing, .awaitingPeer:
            if self.buffer == nil {
                self.buffer = incoming
            } else {
                // In place: the stored buffer stays uniquely referenced, so the append does not copy it.
                self.buffer?.writeBuffer(&incoming)
            }
        case .associated, .closing, .relaying, .closed:
            break
        }
    }

    /// Parses what the client has sent so far, while the handshake can use it. Call after `receivedBytes`,
    /// and again after carrying out `.send` or `.authenticated`.
    mutating func parseBuffered() -> Action {
        guard case .handshaking(authenticating: false) = self.state, var buffer = self.buffer else {
            return .none
        }
        self.buffer = nil  // unique while parsing
        let action = self.handshake.receivedBytes(&buffer)
        // Let go of a fully parsed buffer: it is NIO's receive buffer, and keeping it empty holds memory.
        self.buffer = buffer.readableBytes > 0 ? buffer : nil
        switch action {
        case .needMoreBytes:
            return .none
        case .send(let message):
            return .send(message)
        case .sendAndClose(let message, let cause):
            return self.failAndLinger(reply: message, failure: .refused(cause))
        case .close(let error):
            self.state = .closing
            return .close(.notSOCKS(error))
        case .authenticate(let credentials):
            self.state = .handshaking(authenticating: true)
            return .authenticate(credentials)
        case .request(let request):
            self.request = request
            self.state = .executing(.admission)
            return .requestReceived(request)
        }
    }

    /// The request is recorded: start carrying it out. An unknown command is refused at once; a SOCKS4
    /// request waits for ident when the listener checks it; everything else goes to admission.
    mutating func carryOut() -> Action {
        guard self.state == .executing(.admission), let request = self.request else {
            return .none
        }
        if case .unknown = request.command {
            return self.fail(.commandNotSupported, failure: .refused(.commandNotSupported))
        }
        if request.version != .socks5, self.checksIdent {
            self.state = .executing(.ident)
            return .checkIdent(request)
        }
        return .admit(request)
    }

    /// The handler's `read()`: whether to pass it on to the socket now. While the request runs, reading goes
    /// on until `pipelinedBytesBeforeHoldingReads` wait; then the read is held until the session moves on.
    mutating func readRequested() -> Bool {
        switch self.state {
        case .handshaking, .associated, .closing, .closed:
            return true
        case .executing, .awaitingPeer, .relaying:
            if (self.buffer?.readableBytes ?? 0) < Self.pipelinedBytesBeforeHoldingReads {
                return true
            }
            self.readHeld = true
            return false
        }
    }

    /// The client shut its side (EOF).
    mutating func inputClosed() -> Action {
        switch self.state {
        case .handshaking, .closing:
            // A client that stops sending before its request is complete will never complete it.
            self.state = .closing
            return .close(nil)
        case .associated:
            // The control connection ended from the client's side: so does the association.
            self.state = .closing
            return .close(nil)
        case .awaitingPeer:
            // A BIND client that leaves before its peer arrives: the listener closes with the connection.
            self.state = .closing
            return .close(.clientLeftBeforeBindPeer)
        case .executing:
            self.pendingEOF = true
            return .none
        case .relaying, .closed:
            return .none
        }
    }

    /// The client connection failed (a reset, a read error).
    mutating func connectionFailed(_ detail: String) -> Action {
        switch self.state {
        case .closed, .relaying:
            return .none
        case .handshaking, .executing, .awaitingPeer, .associated, .closing:
            self.state = .closing
            return .close(.connectionError(detail: detail))
        }
    }

    /// The client connection is closed.
    mutating func channelClosed() -> Action {
        let relaying = self.state == .relaying
        self.state = .closed
        self.buffer = nil
        return .sessionEnded(logRecord: !relaying)
    }
}

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
            return .authenticated(user: user, response: response)
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
        case .handshaking, .executing, .awaitingPeer, .associated, .closing, .relaying, .closed:
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
        case .relaying, .closed:
            return .none
        }
    }
}

// MARK: Outcomes

extension SessionStateMachine {
    private mutating func succeed(bound: SOCKSEndpoint) -> Action {
        guard let reply = self.handshake.requestSucceeded(bound: bound) else {
            self.state = .closing
            return .close(nil)
        }
        self.state = .relaying
        let handover = Handover(pipelined: self.buffer, inputClosed: self.pendingEOF, resumeRead: self.readHeld)
        self.buffer = nil
        self.readHeld = false
        return .startRelay(reply: reply, handover)
    }

    private mutating func fail(_ cause: SOCKSFailureCause, failure: SessionFailure) -> Action {
        guard let reply = self.handshake.requestFailed(cause) else {
            self.state = .closing
            return .close(failure)
        }
        return self.failAndLinger(reply: reply, failure: failure)
    }

    private mutating func failAndLinger(reply: SOCKSServerMessage, failure: SessionFailure) -> Action {
        self.state = .closing
        self.buffer = nil
        let resumeRead = self.readHeld
        self.readHeld = false
        return .failAndLinger(reply: reply, failure: failure, resumeRead: resumeRead)
    }
}
