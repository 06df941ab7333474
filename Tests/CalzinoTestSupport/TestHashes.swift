import CalzinoServer

package enum TestHashes {
    /// Cheap parameters for tests; the format and the code path are those of real hashes.
    package static func quick(_ password: String) throws -> PasswordHash {
        let salt: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let key = try KDFForTests.derive(password, salt: salt)
        return PasswordHash(rounds: 1024, blockSize: 8, parallelism: 1, salt: salt, key: key)
    }
}
