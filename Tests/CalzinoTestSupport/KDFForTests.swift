import _CryptoExtras

package enum KDFForTests {
    package static func derive(_ password: String, salt: [UInt8]) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1024, blockSize: 8, parallelism: 1)
        return key.withUnsafeBytes { Array($0) }
    }
}
