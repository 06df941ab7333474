import NIOCore
import SOCKSCore

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
        case .associated, .closing, .handingOver, .relaying, .closed:
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

    /// The handler's `read()`: whether to pass it on to the socket now. While credentials are checked the
    /// read is held; while the request runs, reading goes on until `pipelinedBytesBeforeHoldingReads` wait,
    /// then the read is held until the session moves on.
    mutating func readRequested() -> Bool {
        switch self.state {
        case .handshaking(authenticating: true):
            // Nothing a client sends can matter before its credentials are decided: reading waits, so that
            // it cannot fill memory while a slow hash is checked (issue 12, defect 2).
            self.readHeld = true
            return false
        case .handshaking(authenticating: false), .associated, .closing, .closed:
            return true
        case .executing, .awaitingPeer, .handingOver, .relaying:
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
        case .handingOver, .relaying, .closed:
            return .none
        }
    }

    /// The client connection failed (a reset, a read error).
    mutating func connectionFailed(_ detail: String) -> Action {
        switch self.state {
        case .closed, .handingOver, .relaying:
            return .none
        case .handshaking, .executing, .awaitingPeer, .associated, .closing:
            self.state = .closing
            return .close(.connectionError(detail: detail))
        }
    }

    /// The handler has wired the relay: from now on the relay ends the session and writes its access line.
    mutating func relayStarted() {
        if self.state == .handingOver {
            self.state = .relaying
        }
    }

    /// The client connection is closed. Once: a second report (none comes from NIO, but the fuzzer sends
    /// one) ends nothing more.
    mutating func channelClosed() -> Action {
        guard self.state != .closed else { return .none }
        let relaying = self.state == .relaying
        self.state = .closed
        self.buffer = nil
        return .sessionEnded(logRecord: !relaying)
    }
}
