import NIOCore

/// How much the server and each client, user and session may take. One type for the command line, the
/// configuration file (`limits:`), rule overrides (bandwidth) and the server. `nil`: no limit (or, in a
/// layer, not set there: `over(_:)` puts one layer over another).
public struct Limits: Hashable, Sendable {
    /// Client connections open at once, handshakes included; beyond it a new connection is closed at once,
    /// before a byte is read. `nil`: as many as the descriptor limit allows. The last line of defence of the
    /// process; `maxSessions` is the polite limit.
    public var maxConnections: Int?
    /// Concurrent sessions (admitted requests); beyond it a request is refused with 0x01 (SOCKS4: 0x5B).
    public var maxSessions: Int?
    /// Concurrent sessions from one client address; the next request gets 0x01 (SOCKS4: 0x5B).
    public var sessionsPerClient: Int?
    /// Concurrent sessions of one authenticated user; the next request gets 0x01 (SOCKS4: 0x5B).
    public var sessionsPerUser: Int?
    /// New connections from one client address per second (a token bucket with a one-second burst); more
    /// are closed at once.
    public var handshakesPerClientPerSecond: Int?
    /// Each session's own rate, unless its rule sets one.
    public var bandwidthPerSession: Bandwidth?
    /// The rate all of a user's sessions share, unless their rule sets one.
    public var bandwidthPerUser: Bandwidth?
    /// How many leading bits of an IPv6 client address make one client for the per-client limits (`nil`:
    /// `ClientKey.defaultIPv6Prefix`, /64).
    public var clientIPv6Prefix: Int?

    public init(
        maxConnections: Int? = nil,
        maxSessions: Int? = nil,
        sessionsPerClient: Int? = nil,
        sessionsPerUser: Int? = nil,
        handshakesPerClientPerSecond: Int? = nil,
        bandwidthPerSession: Bandwidth? = nil,
        bandwidthPerUser: Bandwidth? = nil,
        clientIPv6Prefix: Int? = nil
    ) {
        self.maxConnections = maxConnections
        self.maxSessions = maxSessions
        self.sessionsPerClient = sessionsPerClient
        self.sessionsPerUser = sessionsPerUser
        self.handshakesPerClientPerSecond = handshakesPerClientPerSecond
        self.bandwidthPerSession = bandwidthPerSession
        self.bandwidthPerUser = bandwidthPerUser
        self.clientIPv6Prefix = clientIPv6Prefix
    }

    /// The key per-client limits count `address` under.
    public func clientKey(_ address: SocketAddress?) -> ClientKey {
        ClientKey(address, ipv6Prefix: self.clientIPv6Prefix ?? ClientKey.defaultIPv6Prefix)
    }

    /// The bounds of every count limit, for a flag and a file key alike.
    public static let countRange = 1...1_000_000

    /// Each count limit by its name in the configuration file (`limits.NAME`); the flag is `--NAME`.
    public enum CountKey: String, CaseIterable, Hashable, Sendable {
        case maxConnections = "max-connections"
        case maxSessions = "max-sessions"
        case sessionsPerClient = "sessions-per-client"
        case sessionsPerUser = "sessions-per-user"
        case handshakesPerClientPerSecond = "handshakes-per-client-per-second"
    }

    public subscript(key: CountKey) -> Int? {
        get {
            switch key {
            case .maxConnections: return self.maxConnections
            case .maxSessions: return self.maxSessions
            case .sessionsPerClient: return self.sessionsPerClient
            case .sessionsPerUser: return self.sessionsPerUser
            case .handshakesPerClientPerSecond: return self.handshakesPerClientPerSecond
            }
        }
        set {
            switch key {
            case .maxConnections: self.maxConnections = newValue
            case .maxSessions: self.maxSessions = newValue
            case .sessionsPerClient: self.sessionsPerClient = newValue
            case .sessionsPerUser: self.sessionsPerUser = newValue
            case .handshakesPerClientPerSecond: self.handshakesPerClientPerSecond = newValue
            }
        }
    }

    /// These limits, with `base`'s wherever these set none.
    public func over(_ base: Limits) -> Limits {
        Limits(
            maxConnections: self.maxConnections ?? base.maxConnections,
            maxSessions: self.maxSessions ?? base.maxSessions,
            sessionsPerClient: self.sessionsPerClient ?? base.sessionsPerClient,
            sessionsPerUser: self.sessionsPerUser ?? base.sessionsPerUser,
            handshakesPerClientPerSecond: self.handshakesPerClientPerSecond ?? base.handshakesPerClientPerSecond,
            bandwidthPerSession: self.bandwidthPerSession ?? base.bandwidthPerSession,
            bandwidthPerUser: self.bandwidthPerUser ?? base.bandwidthPerUser,
            clientIPv6Prefix: self.clientIPv6Prefix ?? base.clientIPv6Prefix
        )
    }

    /// Whether any limit counts sessions (and so needs the session counter).
    public var countsSessions: Bool {
        self.maxSessions != nil || self.sessionsPerClient != nil || self.sessionsPerUser != nil
    }
}
