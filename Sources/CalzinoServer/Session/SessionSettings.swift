import CalzinoPolicy
import Logging
import NIOCore
import SOCKSCore

/// What every session of a listener shares: deadlines, the dialer, the loggers. Made once per listener.
struct SessionSettings: Sendable {
    /// The server's deadlines, with the deciding rule's in place once a request is admitted.
    var timeouts: Timeouts
    /// UDP ASSOCIATE: the address named in the reply instead of the control connection's local address
    /// (for a server behind NAT); `nil` uses the local address.
    var udpAdvertise: SocketAddress?
    var udpClientPort: UDPClientPort = .declared
    var udpReplies: UDPReplies = .sentTo
    /// How long a failed handshake waits for the client to close after the failure reply (see
    /// `SessionHandler.failAndLinger`).
    var lingerTimeout: TimeAmount = .seconds(2)
    var acceptedMethods: [SOCKS5AuthMethod]
    var dialer: any SOCKSDialer
    /// RFC 1929 users; when set, SOCKS5 clients must authenticate and SOCKS4 needs a rule.
    var users: UserStore?
    /// The listener's name, as rules match it.
    var listenerName: String
    var rules: AccessRules
    /// Destination classes that only a rule naming them opens (empty on a loopback listener).
    var protectedClasses: Set<AddressClass>
    /// The policy of a session when there are no rules: made once per listener, not per session.
    var listenerPolicy: DestinationPolicy = .allowAll
    /// The server's limits, with the deciding rule's bandwidth in place once a request is admitted.
    var limits: Limits
    var shared: SharedLimiters
    /// Which of the user's buckets the session shares: the global one, or its rule's.
    var userBandwidthScope = "global"
    /// RFC 1413 checks of SOCKS4 requests.
    var ident: IdentMode = .off
    var identPort = 113
    var logger: Logger
    var accessLogger: Logger
    /// How the access line is written: text, or fields for a JSON handler.
    var logFormat: LogFormat = .text
    /// The server's metrics; `nil` without a metrics factory (and then no cost anywhere).
    var metrics: ServerMetrics? = nil
    /// The embedder's handler of ended sessions, if any.
    var sessionEnded: (@Sendable (CalzinoSessionSummary) -> Void)? = nil
}

extension SessionSettings {
    /// A rule's deadlines and rates in place of the listener's; a zero idle timeout disables it.
    mutating func apply(_ rule: AccessRule) {
        // Only what a rule may set: its deadlines (`isPerRule`) and its bandwidths, whatever else an
        // embedder's `RuleOverrides` carries.
        let overrides = rule.overrides
        self.timeouts = self.timeouts.applying(overrides.timeouts.filter { $0.key.isPerRule })
        if let bandwidth = overrides.limits.bandwidthPerSession {
            self.limits.bandwidthPerSession = bandwidth
        }
        if let bandwidth = overrides.limits.bandwidthPerUser {
            self.limits.bandwidthPerUser = bandwidth
            self.userBandwidthScope = "rule:\(rule.name)"
        }
    }
}
