import CalzinoServer

/// `calzino check-config`'s report: the configuration in force after the file, the flags and the defaults,
/// written in the file's own YAML form, key by key from the same table the parser reads
/// (`ConfigurationKey.topLevel`). Users are listed by name only.
public enum EffectiveConfiguration {
    public static func describe(_ options: ServeOptions, _ configuration: CalzinoServerConfiguration) -> String {
        let view = EffectiveView(options: options, configuration: configuration)
        return ConfigurationKey.topLevel.flatMap { $0.print(view) }.joined(separator: "\n") + "\n"
    }
}
