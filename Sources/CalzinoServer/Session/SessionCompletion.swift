import SOCKSCore

/// An asynchronous step of a request finished: what the step reports to the session state machine.
/// The steps (`DialStep`, `BindStep`, `AssociationStep`, the authenticators) produce these, so the handler
/// only passes them on (`SessionStateMachine.completed`).
enum SessionCompletion: Hashable, Sendable {
    case authenticationFinished(AuthenticationOutcome)
    case identFinished(AuthenticationOutcome)
    case dialSucceeded(bound: SOCKSEndpoint)
    case dialFailed(SOCKSFailureCause, SessionFailure)
    case bindListening(bound: SOCKSEndpoint)
    case bindPeerArrived(SOCKSEndpoint)
    case bindPeerRefused(SOCKSFailureCause, SessionFailure)
    case associationOpened(bound: SOCKSEndpoint)
    case setupFailed(SOCKSFailureCause, SessionFailure)
}
