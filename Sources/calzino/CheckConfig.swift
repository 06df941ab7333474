import ArgumentParser
import CalzinoConfiguration
import CalzinoServer

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file without starting, and print the effective configuration.",
        discussion: """
            Reads FILE (and the users file it names), applies any serve flags given after it, and prints the \
            configuration that `calzino serve --config FILE` would run, defaults included. Exits 0 if it is \
            valid; otherwise prints FILE:LINE: what is wrong, and exits 64.
            """
    )

    @Argument(help: "The YAML configuration file.")
    var file: String

    @OptionGroup var flags: ServeFlags

    func validate() throws {
        try self.flags.validate()
        if self.flags.config != nil {
            throw ValidationError("give the file as the argument, not with --config")
        }
    }

    func run() throws {
        let options = try ServeFlags.effectiveOptions(file: self.file, flags: try self.flags.options())
        let configuration = try ServeFlags.configuration(from: options)
        print("# \(self.file): valid", terminator: "\n")
        print(EffectiveConfiguration.describe(options, configuration), terminator: "")
    }
}
