import SOCKSCore

/// One rule: every matcher that is set must match (a list matches when any entry does); the first rule that
/// matches a request decides it.
public struct AccessRule: Hashable, Sendable {
    public enum Action: String, Hashable, Sendable {
        case allow
        case deny
    }

    /// How logs name the rule: its `name`, or its position and line in the file.
    public var name: String
    public var action: Action
    public var listeners: Set<String>?
    public var clients: [AddressMatcher]?
    /// Users named directly and through groups.
    public var users: Set<String>?
    public var versions: Set<SOCKSClientRequest.Version>?
    public var commands: Set<AccessRequest.Command>?
    public var destinationNames: [NamePattern]?
    public var destinationAddresses: [AddressMatcher]?
    public var destinationPorts: [PortRange]?
    public var overrides: RuleOverrides

    public init(
        name: String,
        action: Action,
        listeners: Set<String>? = nil,
        clients: [AddressMatcher]? = nil,
        users: Set<String>? = nil,
        versions: Set<SOCKSClientRequest.Version>? = nil,
        commands: Set<AccessRequest.Command>? = nil,
        destinationNames: [NamePattern]? = nil,
        destinationAddresses: [AddressMatcher]? = nil,
        destinationPorts: [PortRange]? = nil,
        overrides: RuleOverrides = RuleOverrides()
    ) {
        self.name = name
        self.action = action
        self.listeners = listeners
        self.clients = clients
        self.users = users
        self.versions = versions
        self.commands = commands
        self.destinationNames = destinationNames
        self.destinationAddresses = destinationAddresses
        self.destinationPorts = destinationPorts
        self.overrides = overrides
    }

    /// Whether the rule matches `request`: `nil` when that depends on a destination not known yet.
    public func matches(_ request: AccessRequest) -> Bool? {
        if let listeners, !listeners.contains(request.listener) { return false }
        if let clients, !clients.contains(where: { $0.matches(request.client) }) { return false }
        if let users {
            guard let user = request.user, users.contains(user) else { return false }
        }
        if let versions, !versions.contains(request.version) { return false }
        if let commands, !commands.contains(request.command) { return false }
        var undecided = false
        if let destinationNames {
            if let name = request.destinationName {
                if !destinationNames.contains(where: { $0.matches(name) }) { return false }
            } else if request.destinationAddress != nil {
                return false  // an address the client gave has no name to match
            } else {
                undecided = true
            }
        }
        if let destinationAddresses {
            if let address = request.destinationAddress {
                if !destinationAddresses.contains(where: { $0.matches(address) }) { return false }
            } else {
                undecided = true
            }
        }
        if let destinationPorts {
            if let port = request.destinationPort {
                if !destinationPorts.contains(where: { $0.contains(port) }) { return false }
            } else {
                undecided = true
            }
        }
        return undecided ? nil : true
    }
}
