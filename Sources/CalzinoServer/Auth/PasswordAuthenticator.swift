import NIOCore

/// RFC 1929: checks a user name and password against the users (scrypt hashes) on a worker thread, since a
/// hash is slow by design and must not stall the event loop; `VerificationPool` bounds how many run and wait.
struct PasswordAuthenticator: SessionAuthenticator {
    let users: UserStore
    var pool: VerificationPool = .shared

    func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AuthenticationOutcome> {
        guard case .usernamePassword(let credentials) = request else {
            return eventLoop.makeSucceededFuture(.rejected(.generalFailure, .authenticationFailed))
        }
        let verdict = eventLoop.makePromise(of: AuthenticationOutcome.self)
        let users = self.users
        let submission = self.pool.submit {
            let user = users.verify(username: credentials.username, password: credentials.password)
            verdict.succeed(user.map { .accepted(user: $0) } ?? .rejected(.notAllowedByRuleset, .authenticationFailed))
        }
        if submission == .refused {
            verdict.succeed(.rejected(.generalFailure, .limitReached("password-checks \(self.pool.queueLimit) waiting")))
        }
        return verdict.futureResult
    }
}
