import CalzinoPolicy
import CalzinoServer

/// One key of the configuration file: how it is read into `ServeOptions`, and how `check-config` prints the
/// value in force. The parser and the printout both walk `ConfigurationKey.topLevel` (and the sections'
/// own tables), so a key cannot be read without being printed, nor printed under another name or in
/// another order than the documentation's.
struct ConfigurationKey: Sendable {
    /// The key as written in the file.
    let name: String
    /// Reads the key's value. Keys that refer to others (rules to listeners and groups) only keep their node
    /// here; `FileReading.finish` reads them once the whole file is known.
    let read: @Sendable (ConfigNode, inout FileReading) throws -> Void
    /// The key's lines in the printout, for the configuration in force.
    let print: @Sendable (EffectiveView) -> [String]
}

extension ConfigurationKey {
    /// A key whose value is one of a mode's names (`ident`, `udp-client-port`, `udp-replies`).
    static func mode<Mode: RawRepresentable & CaseIterable & Sendable>(
        _ name: String,
        into option: WritableKeyPath<ServeOptions, Mode?> & Sendable,
        inForce: KeyPath<CalzinoServerConfiguration, Mode> & Sendable
    ) -> ConfigurationKey where Mode.RawValue == String {
        ConfigurationKey(
            name: name,
            read: { node, file in file.options[keyPath: option] = Mode(rawValue: try node.choice(Mode.allCases.map(\.rawValue))) },
            print: { view in ["\(name): \(view.configuration[keyPath: inForce].rawValue)"] }
        )
    }
}

/// What `check-config` prints from: the options as merged, and the configuration they made.
struct EffectiveView {
    let options: ServeOptions
    let configuration: CalzinoServerConfiguration
}

/// The state of one file being read: the options so far, and the nodes whose reading waits for the rest
/// of the file.
struct FileReading {
    var options: ServeOptions
    var groupsNode: ConfigNode?
    var rulesNode: ConfigNode?

    /// Reads what waited for the whole file: groups, then rules (which name groups and listeners, wherever
    /// those are written).
    mutating func finish() throws {
        let groups = try self.groupsNode.map(GroupsKey.parse) ?? [:]
        if let rules = self.rulesNode {
            self.options.rules = try RuleParser(groups: groups, listeners: self.options.listenerNames).parse(rules)
            for (rule, node) in zip(self.options.rules, try rules.list()) {
                self.options.ruleLines[rule.name] = node.line
            }
        }
    }
}

extension ServeOptions {
    /// The names rules may use for listeners: each listener's name and address; `nil` when the options name
    /// no listeners (the defaults then apply and any name is accepted).
    var listenerNames: Set<String>? {
        guard let listen = self.listen else { return nil }
        return Set(listen.flatMap { listener in listener.addresses.map(AddressText.format) + (listener.name.map { [$0] } ?? []) })
    }
}
