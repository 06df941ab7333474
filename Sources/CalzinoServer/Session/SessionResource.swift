import NIOCore

/// What a finished step brought with it: it goes to the action that uses it, or is closed when the
/// session has moved on (a late completion) or fails.
enum SessionResource {
    /// A connection for the relay: the dialed target, or the BIND peer.
    case channel(any Channel)
    case listener(BindListener)
    case association(UDPAssociation)

    func discard() {
        switch self {
        case .channel(let channel): channel.close(promise: nil)
        case .listener(let listener): listener.close()
        case .association(let association): association.close()
        }
    }
}

/// A finished step: its completion for the state machine, and what it brought.
struct SessionStepResult {
    var completion: SessionCompletion
    var resource: SessionResource?
    /// Where a refused BIND peer came from, for the access line's `connected=`.
    var peer: SocketAddress?

    init(_ completion: SessionCompletion, _ resource: SessionResource? = nil) {
        self.completion = completion
        self.resource = resource
    }

    /// A socket the request needs could not be set up: a general failure (0x01) that says why.
    static func setupFailed(_ failure: SessionFailure, discarding resource: SessionResource? = nil) -> SessionStepResult {
        SessionStepResult(.setupFailed(.generalFailure, failure), resource)
    }
}
