/// A configuration value (a flag or, later, a file entry) that cannot be used, with what is wrong.
public struct ConfigurationValueError: Error, Hashable, Sendable, CustomStringConvertible {
    public var value: String
    public var problem: String

    public init(value: String, problem: String) {
        self.value = value
        self.problem = problem
    }

    public var description: String { "'\(self.value)': \(self.problem)" }
}
