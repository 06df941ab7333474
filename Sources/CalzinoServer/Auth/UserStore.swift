/// The users of RFC 1929 authentication, by name, with their hashes (made by `calzino hash-password`; the
/// users file is read by CalzinoConfiguration's `UsersFile`). Passwords are never stored, logged or shown.
public struct UserStore: Sendable {
    private let users: [String: PasswordHash]
    /// Verified against for unknown names, so that a wrong name costs as long as a wrong password. It has the
    /// default parameters, never a user's: a file's hash with a costly N must not be what every unknown name
    /// pays (issue 12, defect 13).
    let decoy: PasswordHash

    public var count: Int { self.users.count }

    public init(users: [String: PasswordHash]) {
        self.users = users
        self.decoy = PasswordHash(
            rounds: PasswordHash.defaultRounds,
            blockSize: PasswordHash.defaultBlockSize,
            parallelism: PasswordHash.defaultParallelism,
            salt: [0],
            key: [UInt8](repeating: 0, count: PasswordHash.keyLength)
        )
    }

    /// The names of the users, sorted.
    public var names: [String] { self.users.keys.sorted() }

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
    package var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result = result.dropLast() }
        return result
    }
}
