import ArgumentParser
import CalzinoServer

struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Hash a password for the users file (reads the password from the first line of standard input).",
        discussion: """
            Prints scrypt$N$r$p$salt$key. Put it in the users file as name:hash, for example
              printf 'secret\\n' | calzino hash-password   →   alice:scrypt$16384$8$1$…
            The password is read from standard input so that it never appears in a process list; type it at the
            prompt-less input (or pipe it from a file) rather than with printf where the shell keeps history.
            """
    )

    func run() throws {
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        guard password.utf8.count <= 255 else {
            throw ValidationError("RFC 1929 passwords are at most 255 bytes")
        }
        print(try PasswordHash.make(password: password).encoded)
    }
}
