import CalzinoServer

/// The users file: `name:hash` lines (`#` starts a comment), hashes made by `calzino hash-password`. Every
/// problem is a `ConfigurationFileError` naming the file and the line.
public enum UsersFile {
    public static func load(path: String) throws -> UserStore {
        UserStore(users: try Self.loadEntries(path: path).entries)
    }

    public static func parse(_ text: String, file: String) throws -> UserStore {
        UserStore(users: try Self.parseEntries(text, file: file).entries)
    }

    /// The users of a file with the line each is on.
    static func loadEntries(path: String) throws -> (entries: [String: PasswordHash], lines: [String: Int]) {
        guard let text = TextFile.read(path) else {
            throw ConfigurationFileError(file: path, line: 0, problem: "cannot be read")
        }
        return try Self.parseEntries(text, file: path)
    }

    static func parseEntries(_ text: String, file: String) throws -> (entries: [String: PasswordHash], lines: [String: Int]) {
        var users: [String: PasswordHash] = [:]
        var lines: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingSpaces
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigurationFileError(file: file, line: number, problem: "expected name:hash")
            }
            let name = String(line[..<colon])
            guard (1...255).contains(name.utf8.count) else {
                throw ConfigurationFileError(file: file, line: number, problem: "a user name must be 1 to 255 bytes")
            }
            guard users[name] == nil else {
                throw ConfigurationFileError(file: file, line: number, problem: "user '\(name)' appears twice")
            }
            do {
                users[name] = try PasswordHash(encoded: line[line.index(after: colon)...])
                lines[name] = number
            } catch let error as CalzinoServerError {
                throw ConfigurationFileError(file: file, line: number, problem: "user '\(name)': \(error.problem)")
            }
        }
        guard !users.isEmpty else {
            throw ConfigurationFileError(file: file, line: 0, problem: "no users")
        }
        return (users, lines)
    }
}
