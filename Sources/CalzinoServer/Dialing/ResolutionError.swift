/// A name that resolved to no address (or could not be looked up at all).
public struct ResolutionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var detail: String

    public init(name: String, detail: String = "no address") {
        self.name = name
        self.detail = detail
    }

    public var description: String { "cannot resolve \(self.name): \(self.detail)" }
}
