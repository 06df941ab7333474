/// The destination, or every address a name resolved to, is denied: by a rule, or because it is in a class
/// the listener protects.
public struct DestinationDenied: Error, Hashable, Sendable, CustomStringConvertible {
    public var destination: String
    /// What denied it: a rule's name, `default`, or `protected:CLASS`.
    public var rule: String

    public init(destination: String, rule: String) {
        self.destination = destination
        self.rule = rule
    }

    public var description: String { "destination \(self.destination) denied by \(self.rule)" }
}
