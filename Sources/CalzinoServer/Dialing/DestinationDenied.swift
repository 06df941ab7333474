import CalzinoPolicy

/// The destination, or every address a name resolved to, is denied: by a rule, or because it is in a class
/// the listener protects.
public struct DestinationDenied: Error, Hashable, Sendable, CustomStringConvertible {
    public var destination: String
    /// What denied it.
    public var reason: DenialReason

    public init(destination: String, reason: DenialReason) {
        self.destination = destination
        self.reason = reason
    }

    public var description: String { "destination \(self.destination) denied by \(self.reason)" }
}
