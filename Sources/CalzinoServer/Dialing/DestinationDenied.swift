/// The destination, or every address a name resolved to, is in a class the listener's policy denies.
public struct DestinationDenied: Error, Hashable, Sendable, CustomStringConvertible {
    public var destination: String

    public init(destination: String) {
        self.destination = destination
    }

    public var description: String { "destination \(self.destination) is not allowed from this listener" }
}
