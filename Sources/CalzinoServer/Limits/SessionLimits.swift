import CalzinoPolicy

/// Limits beyond the descriptor-bound session capacity. `nil`: no limit.
public struct SessionLimits: Hashable, Sendable {
    /// Concurrent sessions from one client address; the next request gets 0x01 (SOCKS4: 0x5B).
    public var sessionsPerClient: Int?
    /// Concurrent sessions of one authenticated user; the next request gets 0x01 (SOCKS4: 0x5B).
    public var sessionsPerUser: Int?
    /// New connections from one client address per second (a token bucket with a one-second burst); more
    /// are closed at once.
    public var handshakesPerClientPerSecond: Int?
    /// Each session's own rate, unless its rule sets one.
    public var sessionBandwidth: Bandwidth?
    /// The rate all of a user's sessions share, unless their rule sets one.
    public var userBandwidth: Bandwidth?

    public init(
        sessionsPerClient: Int? = nil,
        sessionsPerUser: Int? = nil,
        handshakesPerClientPerSecond: Int? = nil,
        sessionBandwidth: Bandwidth? = nil,
        userBandwidth: Bandwidth? = nil
    ) {
        self.sessionsPerClient = sessionsPerClient
        self.sessionsPerUser = sessionsPerUser
        self.handshakesPerClientPerSecond = handshakesPerClientPerSecond
        self.sessionBandwidth = sessionBandwidth
        self.userBandwidth = userBandwidth
    }
}
