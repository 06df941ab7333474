import NIOCore
import Yams

/// A node of a YAML configuration file with what an error message needs: the file and the line. Every
/// accessor either returns a value of the expected shape or throws a `ConfigurationFileError` that names
/// the file, the line and the key.
struct ConfigNode {
    let node: Node
    let file: String
    /// The dotted key path, for messages: `rules[2].to-ports`.
    let path: String

    var line: Int { self.node.mark?.line ?? 0 }

    func error(_ problem: String) -> ConfigurationFileError {
        ConfigurationFileError(file: self.file, line: self.line, problem: "\(self.path): \(problem)")
    }

    /// A mapping's entries by key, in file order. Keys outside `allowed` and repeated keys are errors.
    func mapping(allowed: [String]) throws -> [(key: String, value: ConfigNode)] {
        if self.isEmpty {
            return []  // `limits:` with nothing under it (or only comments): nothing set
        }
        guard case .mapping(let mapping) = self.node else {
            throw self.error("expected a mapping of \(allowed.joined(separator: ", "))")
        }
        var seen: Set<String> = []
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            let keyLine = keyNode.mark?.line ?? 0
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigurationFileError(file: self.file, line: keyLine, problem: "\(self.path): a key must be a plain word")
            }
            let key = scalar.string
            let childPath = self.path.isEmpty ? key : "\(self.path).\(key)"
            guard allowed.contains(key) else {
                throw ConfigurationFileError(
                    file: self.file, line: keyLine,
                    problem: "unknown key '\(childPath)'; expected one of: \(allowed.joined(separator: ", "))"
                )
            }
            guard seen.insert(key).inserted else {
                throw ConfigurationFileError(file: self.file, line: keyLine, problem: "'\(childPath)' appears twice")
            }
            entries.append((key, ConfigNode(node: valueNode, file: self.file, path: childPath)))
        }
        return entries
    }

    /// A mapping whose keys are names the file chooses (users, groups).
    func namedEntries() throws -> [(key: String, value: ConfigNode)] {
        guard case .mapping(let mapping) = self.node else {
            throw self.error("expected a mapping of names")
        }
        var seen: Set<String> = []
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode, !scalar.string.isEmpty else {
                throw ConfigurationFileError(file: self.file, line: keyNode.mark?.line ?? 0, problem: "\(self.path): a name must be a plain word")
            }
            guard seen.insert(scalar.string).inserted else {
                throw ConfigurationFileError(file: self.file, line: keyNode.mark?.line ?? 0, problem: "\(self.path): '\(scalar.string)' appears twice")
            }
            entries.append((scalar.string, ConfigNode(node: valueNode, file: self.file, path: "\(self.path).\(scalar.string)")))
        }
        return entries
    }

    /// A sequence's items; a single scalar counts as a list of one.
    func list() throws -> [ConfigNode] {
        switch self.node {
        case .sequence(let sequence):
            return sequence.enumerated().map { ConfigNode(node: $1, file: self.file, path: "\(self.path)[\($0 + 1)]") }
        case .scalar:
            return [self]
        case .mapping, .alias:
            throw self.error("expected a list")
        }
    }

    func string() throws -> String {
        guard case .scalar(let scalar) = self.node else {
            throw self.error("expected a single value, not a list or mapping")
        }
        return scalar.string
    }

    func strings() throws -> [String] {
        try self.list().map { try $0.string() }
    }

    func bool() throws -> Bool {
        switch try self.string() {
        case "true": return true
        case "false": return false
        case let other: throw self.error("'\(other)' is not true or false")
        }
    }

    func int(in range: ClosedRange<Int>) throws -> Int {
        let text = try self.string()
        guard let value = Int(text), range.contains(value) else {
            throw self.error("'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func duration() throws -> TimeAmount {
        let text = try self.string()
        do {
            return try DurationValue.parse(text)
        } catch let error as ConfigurationValueError {
            throw self.error(error.description)
        }
    }

    /// One of `choices`.
    func choice(_ choices: [String]) throws -> String {
        let text = try self.string()
        guard choices.contains(text) else {
            throw self.error("'\(text)' is not one of \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// Parses each item with `parse`, which returns `nil` for a bad one; `what` names the expected form.
    func items<T>(_ what: String, _ parse: (String) -> T?) throws -> [T] {
        try self.list().map { item in
            let text = try item.string()
            guard let value = parse(text) else {
                throw item.error("'\(text)' is not \(what)")
            }
            return value
        }
    }

    /// A bare IP address (IPv6 with or without brackets).
    func ipAddress() throws -> SocketAddress {
        let text = try self.string()
        guard let address = IPAddressValue.parse(text) else {
            throw self.error("'\(text)' is not an IP address")
        }
        return address
    }

    /// A key written with no value: YAML's null.
    var isEmpty: Bool {
        guard case .scalar(let scalar) = self.node else { return false }
        return scalar.style == .plain && ["", "~", "null"].contains(scalar.string)
    }
}
