import NIOCore
import SOCKSCore

/// RFC 1413: asks the client's identd who owns the connection, and compares the answer with the SOCKS4
/// request's USERID.
struct IdentAuthenticator: SessionAuthenticator {
    var mode: IdentMode
    var port: Int
    var timeout: TimeAmount

    func authenticate(_ request: AuthenticationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AuthenticationOutcome> {
        guard case .ident(let socksRequest, let client, let server) = request else {
            return eventLoop.makeSucceededFuture(.rejected(.identdUnreachable, .ident(.noAnswer)))
        }
        let mode = self.mode
        return IdentQuery.ask(client: client, server: server, identPort: self.port, timeout: self.timeout, on: eventLoop)
            .map { Self.outcome(of: $0, userID: socksRequest.userID, mode: mode) }
    }

    /// A USERID that differs from the request's, or an ERROR answer, gets 0x5D; no usable answer gets 0x5C
    /// when ident is required and is let through when it is optional. A confirmed USERID is the user, as
    /// `identity(_:)`.
    static func outcome(of response: IdentResponse?, userID: String?, mode: IdentMode) -> AuthenticationOutcome {
        switch response {
        case .user(let user) where user == userID:
            return .accepted(user: Self.identity(user))
        case .user(let user):
            return .rejected(.identdMismatch, .ident(.mismatch(identd: user, request: userID ?? "")))
        case .error(let reason):
            return .rejected(.identdMismatch, .ident(.errorAnswer(reason)))
        case .none where mode == .required:
            return .rejected(.identdUnreachable, .ident(.noAnswer))
        case .none:
            return .accepted(user: nil)
        }
    }

    /// What an ident-confirmed USERID is in rules (`users: [ident:alice]`), limits and logs: a kind of
    /// identity apart from the password users (whose names cannot hold a ':'), so that a host's identd saying
    /// `alice` takes neither password-user alice's quota nor her bandwidth (issue 12, defect 10).
    static func identity(_ userID: String) -> String {
        Self.prefix + userID
    }

    static let prefix = "ident:"
}
