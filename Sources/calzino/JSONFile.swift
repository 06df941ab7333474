#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// Writes a text file without Foundation.
enum JSONFile {
    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else {
            throw ValidationError("cannot write \(path): errno \(errno)")
        }
        defer { fclose(file) }
        fputs(text, file)
    }
}
