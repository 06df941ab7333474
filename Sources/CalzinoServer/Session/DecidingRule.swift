import CalzinoPolicy

/// Which rule decided a session, for its access line (`rule=…`): only written when rules are configured.
enum DecidingRule: Hashable, Sendable, CustomStringConvertible {
    /// Allowed by the named rule; `nil`: by the default action.
    case allowed(by: String?)
    case denied(DenialReason)

    var description: String {
        switch self {
        case .allowed(let name): return name ?? "default"
        case .denied(let reason): return reason.description
        }
    }
}
