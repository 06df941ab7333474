/// Everything the server library throws, with a code to match on and a message for people (the shape of
/// NIOSSH's `NIOSSHError`). Equality compares the code only.
public struct CalzinoServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case openProxyRefused
            case invalidPasswordHash
            case unknownListener
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A listener that is not on loopback would serve without authentication, and that was not allowed.
        public static let openProxyRefused = Code(.openProxyRefused)
        /// An encoded password hash that does not parse, or whose parameters are out of bounds.
        public static let invalidPasswordHash = Code(.invalidPasswordHash)
        /// A rule names a listener that is not running (a reload keeps the listeners of the start).
        public static let unknownListener = Code(.unknownListener)

        public var description: String {
            switch self.base {
            case .openProxyRefused: return "open-proxy-refused"
            case .invalidPasswordHash: return "invalid-password-hash"
            case .unknownListener: return "unknown-listener"
            }
        }
    }

    public var code: Code
    /// The value at fault, as written (`0.0.0.0:1080`); `<hash>` where showing it would reveal a secret.
    public var value: String
    /// What is wrong, for people.
    public var problem: String

    public init(_ code: Code, value: String, problem: String) {
        self.code = code
        self.value = value
        self.problem = problem
    }

    public var description: String { "'\(self.value)': \(self.problem)" }

    public static func == (lhs: CalzinoServerError, rhs: CalzinoServerError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}
