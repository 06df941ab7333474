import Crypto
import _CryptoExtras

/// A salted scrypt hash of a password, stored as `scrypt$N$r$p$SALT$KEY` (salt and key in hex), so that the
/// parameters travel with the hash. Made by `calzino hash-password`; verified off the event loop, in
/// constant time.
public struct PasswordHash: Hashable, Sendable {
    public var rounds: Int
    public var blockSize: Int
    public var parallelism: Int
    public var salt: [UInt8]
    public var key: [UInt8]

    /// Costs for new hashes: about 16 MiB and a few tens of milliseconds per verification here.
    public static let defaultRounds = 1 << 14
    public static let defaultBlockSize = 8
    public static let defaultParallelism = 1
    static let keyLength = 32

    /// Bounds on parameters read from a file, so that a hostile or mistaken file cannot make a verification
    /// take unbounded memory or time.
    static let maximumRounds = 1 << 20
    static let maximumBlockSize = 32
    static let maximumParallelism = 16
    /// scrypt holds 128 × r × N bytes while it runs: at most this much per verification (issue 12, defect
    /// 13), four times the default's 16 MiB.
    static let maximumMemory = 64 << 20

    /// Hashes `password` with a fresh random salt.
    public static func make(password: String) throws -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = try Self.derive(Array(password.utf8), salt: salt, rounds: Self.defaultRounds, blockSize: Self.defaultBlockSize, parallelism: Self.defaultParallelism)
        return PasswordHash(rounds: Self.defaultRounds, blockSize: Self.defaultBlockSize, parallelism: Self.defaultParallelism, salt: salt, key: key)
    }

    /// Whether `password` matches, compared in constant time. Blocking: call it off the event loop.
    public func verify(_ password: [UInt8]) -> Bool {
        guard let derived = try? Self.derive(password, salt: self.salt, rounds: self.rounds, blockSize: self.blockSize, parallelism: self.parallelism),
            derived.count == self.key.count
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(derived, self.key) {
            difference |= a ^ b
        }
        return difference == 0
    }

    private static func derive(_ password: [UInt8], salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: password,
            salt: salt,
            outputByteCount: Self.keyLength,
            rounds: rounds,
            blockSize: blockSize,
            parallelism: parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    public var encoded: String {
        "scrypt$\(self.rounds)$\(self.blockSize)$\(self.parallelism)$\(Hex.encode(self.salt))$\(Hex.encode(self.key))"
    }

    /// Parses an encoded hash; the error says what is wrong.
    public init(encoded text: Substring) throws {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "scrypt" else {
            throw CalzinoServerError(.invalidPasswordHash, value: "<hash>", problem: "expected scrypt$N$r$p$salt$key (made by calzino hash-password)")
        }
        guard let rounds = Int(fields[1]), rounds >= 2, rounds <= Self.maximumRounds, rounds & (rounds - 1) == 0 else {
            throw CalzinoServerError(.invalidPasswordHash, value: String(fields[1]), problem: "N must be a power of two from 2 to \(Self.maximumRounds)")
        }
        guard let blockSize = Int(fields[2]), (1...Self.maximumBlockSize).contains(blockSize) else {
            throw CalzinoServerError(.invalidPasswordHash, value: String(fields[2]), problem: "r must be from 1 to \(Self.maximumBlockSize)")
        }
        guard let parallelism = Int(fields[3]), (1...Self.maximumParallelism).contains(parallelism) else {
            throw CalzinoServerError(.invalidPasswordHash, value: String(fields[3]), problem: "p must be from 1 to \(Self.maximumParallelism)")
        }
        // Both factors are bounded above (2^20, 32), so the product cannot overflow.
        guard 128 * rounds * blockSize <= Self.maximumMemory else {
            throw CalzinoServerError(
                .invalidPasswordHash,
                value: "\(rounds)$\(blockSize)",
                problem: "N × r too large: one verification would hold \(128 * rounds * blockSize >> 20) MiB, more than \(Self.maximumMemory >> 20) MiB"
            )
        }
        guard let salt = Hex.decode(fields[4]), !salt.isEmpty, let key = Hex.decode(fields[5]), key.count == Self.keyLength else {
            throw CalzinoServerError(.invalidPasswordHash, value: "<hash>", problem: "salt and key must be hex (a 32-byte key)")
        }
        self.init(rounds: rounds, blockSize: blockSize, parallelism: parallelism, salt: salt, key: key)
    }

    public init(rounds: Int, blockSize: Int, parallelism: Int, salt: [UInt8], key: [UInt8]) {
        self.rounds = rounds
        self.blockSize = blockSize
        self.parallelism = parallelism
        self.salt = salt
        self.key = key
    }
}

/// Lower-case hex without Foundation.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
