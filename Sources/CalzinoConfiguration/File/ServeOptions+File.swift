import CalzinoPolicy
import NIOCore
import CalzinoServer
import SOCKSCore
import Yams

extension ServeOptions {
    /// Reads a configuration file. Every problem throws a `ConfigurationFileError` naming the file and line.
    public static func load(path: String) throws -> ServeOptions {
        guard let text = TextFile.read(path) else {
            throw ConfigurationFileError(file: path, line: 0, problem: "cannot be read")
        }
        return try Self.parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ServeOptions {
        var options = ServeOptions()
        options.file = file
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file, lines: Self.lineCount(of: text))
        }
        guard let root else { return options }  // an empty file: every default
        let table = ConfigurationKey.topLevel
        var reading = FileReading(options: options)
        for (name, value) in try ConfigNode(node: root, file: file, path: "").mapping(allowed: table.map(\.name)) {
            try table.first { $0.name == name }?.read(value, &reading)
        }
        try reading.finish()
        return reading.options
    }

    /// How many lines `text` has as YAML counts them: LF, CR, CR LF, NEL, LS and PS each end a line.
    static func lineCount(of text: String) -> Int {
        var lines = 1
        var afterCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if !afterCR { lines += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
            default: break
            }
            afterCR = scalar == "\r"
        }
        return lines
    }

    /// `lines`: the file's line count. The YAML parser places a problem found at the end of a file without a
    /// final newline on the line after the last; the message names the last line and says where.
    private static func syntaxError(_ error: YamlError, file: String, lines: Int) -> ConfigurationFileError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            guard mark.line <= lines else {
                return ConfigurationFileError(file: file, line: lines, problem: "not valid YAML: at the end of the file: \(problem)")
            }
            return ConfigurationFileError(file: file, line: mark.line, problem: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let line = Self.repeatLine(of: key, after: context.mark, in: context.text) ?? context.mark.line
            return ConfigurationFileError(file: file, line: line, problem: "'\(key)' appears twice in one mapping (first on line \(context.mark.line))")
        default:
            return ConfigurationFileError(file: file, line: 0, problem: "not valid YAML: \(error)")
        }
    }

    /// The line where `key` is written again at the same column as its first occurrence at `first`.
    private static func repeatLine(of key: String, after first: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(indent)
            if indent + 1 == first.column, rest.hasPrefix("\(key):") || rest.hasPrefix("\"\(key)\":") {
                return index + 1
            }
        }
        return nil
    }
}
