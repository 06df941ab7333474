import SOCKSCore

/// What an authenticator decided about a client.
enum AuthenticationOutcome: Hashable, Sendable {
    /// The client is `user` (`nil`: allowed without a confirmed name, as with optional ident and no answer).
    case accepted(user: String?)
    /// Refused: `cause` picks the reply code, `failure` is what the access line says.
    case rejected(SOCKSFailureCause, SessionFailure)
}
