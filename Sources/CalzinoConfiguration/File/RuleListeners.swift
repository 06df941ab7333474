import CalzinoPolicy
import CalzinoServer

extension ServeOptions {
    /// The rules with the listeners they name resolved against the listeners in force (the file's, the
    /// flags', or the defaults). A rule may name a listener by its name or by its address; the server matches
    /// a session's listener by name (its address when it has none), so an address of a named listener becomes
    /// that name here, once, instead of a second comparison per request.
    ///
    /// A name that no listener has is refused: the rule could never match, and a deny rule that never matches
    /// leaves open what it was written to close. This also covers a file without `listen` (the defaults, or
    /// `--listen` flags, are in force), which the parser cannot check.
    func rulesResolvingListeners(of configuration: CalzinoServerConfiguration) throws -> [AccessRule] {
        var canonical: [String: String] = [:]
        for address in configuration.listeners + configuration.optionalListeners {
            let name = configuration.listenerName(address)
            canonical[name] = name
            canonical[AddressText.format(address)] = name
        }
        return try self.rules.map { rule in
            guard let named = rule.listeners else { return rule }
            var resolved = rule
            resolved.listeners = Set(try named.map { name in
                guard let listener = canonical[name] else {
                    let problem = "rule '\(rule.name)': no listener is named or listens on '\(name)' (listeners: \(canonical.keys.sorted().joined(separator: ", ")))"
                    if let file = self.file, let line = self.ruleLines[rule.name] {
                        throw ConfigurationFileError(file: file, line: line, problem: problem)
                    }
                    throw ConfigurationValueError(value: name, problem: problem)
                }
                return listener
            })
            return resolved
        }
    }
}
