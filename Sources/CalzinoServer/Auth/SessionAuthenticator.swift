import NIOCore

/// Decides who a client is, for one authentication method (after NIOSSH's
/// `NIOSSHServerUserAuthenticationDelegate`). The session asks it and goes on with its outcome; the session
/// state machine does not know how the answer was found.
///
/// Today: RFC 1929 passwords (`PasswordAuthenticator`) and RFC 1413 ident (`IdentAuthenticator`). GSS-API
/// and TLS client certificates will plug in the same way.
protocol SessionAuthenticator: Sendable {
    /// Answers `request`; the future completes on `eventLoop`, the session's loop, and never fails (a
    /// failure to check is a rejection). Slow work (a password hash) must run off the loop.
    func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AuthenticationOutcome>
}
