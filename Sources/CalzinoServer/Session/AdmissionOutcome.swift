import SOCKSCore

/// How the rules and limits answered a request, as the session state machine needs it.
enum AdmissionOutcome: Hashable, Sendable {
    case admitted
    /// Refused: `cause` picks the reply code (0x02 for a rule, 0x01 for a limit), `failure` the access line.
    case refused(SOCKSFailureCause, SessionFailure)
}
