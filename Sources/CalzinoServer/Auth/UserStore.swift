/// The users of RFC 1929 authentication: a file of `name:hash` lines (`#` starts a comment), hashes made by
/// `calzino hash-password`. Passwords are never stored, logged or shown.
public struct UserStore: Sendable {
    private let users: [String: PasswordHash]
    /// Verified against for unknown names, so that a wrong name costs as long as a wrong password.
    private let decoy: PasswordHash

    public var count: Int { self.users.count }

    init(users: [String: PasswordHash]) {
        self.users = users
        self.decoy = users.values.first ?? PasswordHash(rounds: PasswordHash.defaultRounds, blockSize: 8, parallelism: 1, salt: [0], key: [UInt8](repeating: 0, count: PasswordHash.keyLength))
    }

    public static func load(path: String) throws -> UserStore {
        UserStore(users: try Self.loadEntries(path: path).entries)
    }

    /// The names of the users, sorted.
    public var names: [String] { self.users.keys.sorted() }

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

    private static func parseEntries(_ text: String, file: String) throws -> (entries: [String: PasswordHash], lines: [String: Int]) {
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
            } catch let error as ConfigurationValueError {
                throw ConfigurationFileError(file: file, line: number, problem: "user '\(name)': \(error.problem)")
            }
        }
        guard !users.isEmpty else {
            throw ConfigurationFileError(file: file, line: 0, problem: "no users")
        }
        return (users, lines)
    }

    /// The user name if `password` is right for it. Blocking (scrypt): call it off the event loop.
    public func verify(username: [UInt8], password: [UInt8]) -> String? {
        let name = String(decoding: username, as: UTF8.self)
        guard let hash = self.users[name] else {
            _ = self.decoy.verify(password)
            return nil
        }
        return hash.verify(password) ? name : nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result = result.dropLast() }
        return result
    }
}
