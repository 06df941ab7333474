/// A problem in a configuration file, naming the file, the line and what is wrong.
public struct ConfigurationFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var problem: String

    public init(file: String, line: Int, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    /// `FILE:LINE: problem`, or `FILE: problem` for the file as a whole (line 0).
    public var description: String {
        self.line > 0 ? "\(self.file):\(self.line): \(self.problem)" : "\(self.file): \(self.problem)"
    }
}
