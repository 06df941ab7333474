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
///
/// The type is split by concern: this file declares it (states, actions, what it holds);
/// `+ClientInput` handles what the client connection does, `+Completions` the steps' completions, the
/// deadline and the outcomes. Its stored state is internal only so that those files can reach it: nothing
/// outside the machine reads or writes it.
struct SessionStateMachine {
    enum State: Hashable {
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
        /// The success reply and the hand-over are going out (`.startRelay`); until the handler confirms the
        /// relay runs (`relayStarted`), the session is still this machine's, and its end is logged here.
        case handingOver
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

    var state: State = .handshaking(authenticating: false)
    var handshake: SOCKSServerHandshakeStateMachine
    var request: SOCKSClientRequest?
    /// Bytes received and not yet parsed (handshaking) or kept for the relay (executing, awaiting the peer).
    var buffer: ByteBuffer?
    /// The client sent EOF while the request ran: the relay gets it after the pipelined bytes.
    var pendingEOF = false
    /// A `read()` was held back because enough pipelined bytes wait; it is passed on when the session moves on.
    var readHeld = false
    let checksIdent: Bool

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
        /// The credentials were right: the session's user is `user`; send the response, call
        /// `parseBuffered()` for the request behind it, then resume reading if a read was held.
        case authenticated(user: String, response: SOCKSServerMessage, resumeRead: Bool)
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
        /// Cancel the deadline, send the success reply and hand the connection to the relay; then call
        /// `relayStarted()` (if the client connection is still open and the relay is wired).
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
