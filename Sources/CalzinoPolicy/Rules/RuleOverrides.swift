/// What a rule changes for the sessions it allows: deadlines instead of the global ones (only the
/// `Timeouts.Key.isPerRule` ones count), and bandwidth limits (only `bandwidthPerSession` and
/// `bandwidthPerUser` of `limits` count). What a rule leaves out keeps the global value; a zero idle
/// timeout disables it.
public struct RuleOverrides: Hashable, Sendable {
    public var timeouts: Timeouts.Settings
    public var limits: Limits

    public init(timeouts: Timeouts.Settings = [:], limits: Limits = Limits()) {
        self.timeouts = timeouts
        self.limits = limits
    }
}
