/// What the handler must do after feeding bytes to ``SOCKSServerHandshakeStateMachine``.
public enum SOCKSServerHandshakeAction: Hashable, Sendable {
    /// The bytes so far are a valid prefix: read more.
    case needMoreBytes
    /// Send this message and feed the remaining bytes again.
    case send(SOCKSServerMessage)
    /// Send this message, then close: the handshake failed. `cause` is for the log.
    case sendAndClose(SOCKSServerMessage, cause: SOCKSFailureCause)
    /// Close without a reply: the peer does not speak SOCKS.
    case close(SOCKSProtocolError)
    /// RFC 1929 credentials arrived: check them (off the event loop), then call `authenticationSucceeded` or
    /// `authenticationFailed` and send what it returns.
    case authenticate(SOCKS5UsernamePasswordRequest)
    /// The request is complete. Stop reading, carry it out, then call `requestSucceeded` or
    /// `requestFailed`. Bytes left in the buffer belong to the relay.
    case request(SOCKSClientRequest)
}
