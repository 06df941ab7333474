import Foundation
import CalzinoPolicy
import CalzinoServer
import NIOCore

/// The options of `calzino serve`, from the command line or a configuration file: one layer each. What a
/// layer leaves out is `nil` (or absent from `timeouts`, or `nil` in `limits`): flags are merged over the
/// file (`merging`), then defaults fill the rest (`makeConfiguration`). Timeouts and limits are the server's
/// own value types, so nothing is copied field by field between the layers and the server.
public struct ServeOptions: Sendable {
    /// One `listen` entry: an address (two for `localhost`) and an optional name for rules.
    public struct Listener: Sendable {
        public var addresses: [SocketAddress]
        public var name: String?
        /// Skipped with a warning, instead of failing the start, when it cannot be bound.
        public var optional: Bool
        /// Where it was written, for messages; `nil` for the command line.
        public var file: String?
        public var line: Int

        public init(addresses: [SocketAddress], name: String? = nil, optional: Bool = false, file: String? = nil, line: Int = 0) {
            self.addresses = addresses
            self.name = name
            self.optional = optional
            self.file = file
            self.line = line
        }
    }

    public var listen: [Listener]?
    /// The deadlines this layer sets.
    public var timeouts: Timeouts.Settings = [:]
    /// The limits this layer sets.
    public var limits = Limits()
    public var udpAdvertise: SocketAddress?
    public var udpClientPort: UDPClientPort?
    public var udpReplies: UDPReplies?
    public var logLevel: String?
    public var logFormat: LogFormat?
    public var threads: Int?
    public var usersFile: String?
    /// Where the configuration file named the users file, for an error about reading it.
    var usersFileLine: Int?
    /// The line of each rule in the file, by rule name, for messages.
    var ruleLines: [String: Int] = [:]
    public var allowOpenProxy: Bool?
    public var allowPrivateDestinations: Bool?
    public var ident: IdentMode?
    public var identPort: Int?
    public var rules: [AccessRule] = []
    public var defaultAction: AccessRule.Action?
    /// Users written in the file itself, by name.
    var inlineUsers: [String: PasswordHash] = [:]
    /// The configuration file these options came from, if any.
    public var file: String?
    /// The admin listener, if any (issue 13).
    public var admin: Admin?
    /// Who the process becomes once its listeners are bound (`user:`, `group:`; names or numbers).
    public var user: String?
    public var group: String?

    /// `admin:` or `--admin`: where the admin listener listens, and the file holding its bearer token.
    public struct Admin: Sendable {
        public var address: SocketAddress
        public var tokenFile: String?
        /// Where the file named the token file, for an error about reading it.
        var file: String?
        var line: Int?

        public init(address: SocketAddress, tokenFile: String? = nil) {
            self.address = address
            self.tokenFile = tokenFile
        }

        /// The token: the token file's first line, without surrounding white space. Throws a
        /// `ConfigurationFileError` naming the configuration file's line when the token file cannot be
        /// read or is empty.
        public func token() throws -> String? {
            guard let path = self.tokenFile else { return nil }
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !token.isEmpty else {
                throw ConfigurationFileError(file: self.file ?? path, line: self.line ?? 0, problem: "admin.token-file '\(path)': cannot be read, or holds no token")
            }
            return token
        }
    }

    public init() {}

    /// Bounds that a flag and its file key share.
    public static let threadRange = 1...256
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// These options with every option `flags` gives in place of this one's.
    public func merging(_ flags: ServeOptions) -> ServeOptions {
        var merged = self
        merged.listen = flags.listen ?? self.listen
        merged.timeouts = self.timeouts.merging(flags.timeouts) { _, flag in flag }
        merged.limits = flags.limits.over(self.limits)
        merged.udpAdvertise = flags.udpAdvertise ?? self.udpAdvertise
        merged.udpClientPort = flags.udpClientPort ?? self.udpClientPort
        merged.udpReplies = flags.udpReplies ?? self.udpReplies
        merged.logLevel = flags.logLevel ?? self.logLevel
        merged.logFormat = flags.logFormat ?? self.logFormat
        merged.threads = flags.threads ?? self.threads
        merged.usersFile = flags.usersFile ?? self.usersFile
        merged.usersFileLine = flags.usersFile == nil ? self.usersFileLine : nil
        merged.allowOpenProxy = flags.allowOpenProxy ?? self.allowOpenProxy
        merged.allowPrivateDestinations = flags.allowPrivateDestinations ?? self.allowPrivateDestinations
        merged.ident = flags.ident ?? self.ident
        merged.identPort = flags.identPort ?? self.identPort
        // A flag's address keeps the file's token file (a token is only ever read from a file).
        merged.admin = flags.admin.map { flag in
            var admin = flag
            if admin.tokenFile == nil, let file = self.admin {
                admin.tokenFile = file.tokenFile
                admin.file = file.file
                admin.line = file.line
            }
            return admin
        } ?? self.admin
        return merged
    }

    /// The server configuration these options describe, defaults filling what they leave out. Reads the
    /// users file. Throws `ConfigurationFileError` (the file) or `ConfigurationValueError` (a flag).
    public func makeConfiguration() throws -> CalzinoServerConfiguration {
        var configuration = CalzinoServerConfiguration()
        if let listen = self.listen {
            configuration.listeners = listen.filter { !$0.optional }.flatMap(\.addresses)
            configuration.optionalListeners = listen.filter(\.optional).flatMap(\.addresses)
            for listener in listen {
                for address in listener.addresses {
                    configuration.listenerNames[address] = listener.name
                }
            }
        } else {
            // [::1] is optional by default: a host without IPv6 still gets its IPv4 loopback proxy.
            configuration.listeners = CalzinoServerConfiguration.defaultListeners.filter { $0.protocol == .inet }
            configuration.optionalListeners = CalzinoServerConfiguration.defaultListeners.filter { $0.protocol == .inet6 }
        }
        configuration.timeouts = configuration.timeouts.applying(self.timeouts)
        configuration.limits = self.limits
        configuration.udpAdvertise = self.udpAdvertise
        configuration.logFormat = self.logFormat ?? .text
        configuration.udpClientPort = self.udpClientPort ?? .declared
        configuration.udpReplies = self.udpReplies ?? .sentTo
        configuration.allowOpenProxy = self.allowOpenProxy ?? false
        configuration.allowPrivateDestinations = self.allowPrivateDestinations ?? false
        configuration.ident = self.ident ?? .off
        if let port = self.identPort { configuration.identPort = port }
        configuration.rules = AccessRules(rules: try self.rulesResolvingListeners(of: configuration), defaultAction: self.defaultAction ?? .allow)
        configuration.users = try self.makeUsers()
        do {
            try configuration.validate()
        } catch let error as CalzinoServerError {
            // Name the file line of the listener when it came from the file.
            let culprit = self.listen?.first { listener in
                listener.addresses.contains { AddressText.format($0) == error.value }
            }
            if let culprit, let file = culprit.file {
                throw ConfigurationFileError(file: file, line: culprit.line, problem: "listen: \(error.description)")
            }
            throw ConfigurationValueError(value: error.value, problem: error.problem)
        }
        return configuration
    }

    private func makeUsers() throws -> UserStore? {
        var users = self.inlineUsers
        if let path = self.usersFile {
            let fromFile: (entries: [String: PasswordHash], lines: [String: Int])
            do {
                fromFile = try UsersFile.loadEntries(path: path)
            } catch let error as ConfigurationFileError where error.line == 0 {
                // The users file as a whole: point at the line that names it.
                guard let file = self.file, let line = self.usersFileLine else { throw error }
                throw ConfigurationFileError(file: file, line: line, problem: "users-file: \(error)")
            }
            for (name, hash) in fromFile.entries {
                guard users[name] == nil else {
                    throw ConfigurationFileError(file: path, line: fromFile.lines[name] ?? 0, problem: "user '\(name)' is also in \(self.file ?? "the configuration file")")
                }
                users[name] = hash
            }
        }
        return users.isEmpty ? nil : UserStore(users: users)
    }
}
