import NIOCore

/// What a rule changes for the sessions it allows: deadlines instead of the global ones, and bandwidth
/// limits. `nil` keeps the global value; a zero idle timeout disables it.
public struct RuleOverrides: Hashable, Sendable {
    public var connectTimeout: TimeAmount?
    public var bindTimeout: TimeAmount?
    public var idleTimeout: TimeAmount?
    public var udpIdleTimeout: TimeAmount?
    /// Each session's own buckets.
    public var sessionBandwidth: Bandwidth?
    /// Buckets shared by all of a user's sessions that this rule allows.
    public var userBandwidth: Bandwidth?

    public init(
        connectTimeout: TimeAmount? = nil,
        bindTimeout: TimeAmount? = nil,
        idleTimeout: TimeAmount? = nil,
        udpIdleTimeout: TimeAmount? = nil,
        sessionBandwidth: Bandwidth? = nil,
        userBandwidth: Bandwidth? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.bindTimeout = bindTimeout
        self.idleTimeout = idleTimeout
        self.udpIdleTimeout = udpIdleTimeout
        self.sessionBandwidth = sessionBandwidth
        self.userBandwidth = userBandwidth
    }
}
