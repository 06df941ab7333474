import ArgumentParser

struct Calzino: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calzino",
        abstract: "A SOCKS4, SOCKS4a and SOCKS5 proxy server.",
        discussion: """
            Run `calzino serve` to start a proxy on 127.0.0.1:1080 and [::1]:1080 without authentication.
            Every SOCKS version is accepted on every listener.
            Shell completions: calzino --generate-completion-script bash|zsh|fish.
            """,
        version: BuildInfo.line,
        subcommands: [Serve.self, CheckConfig.self, Bench.self, HashPassword.self],
        defaultSubcommand: nil
    )
}
