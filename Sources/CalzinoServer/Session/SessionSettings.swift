import CalzinoPolicy
import Logging
import NIOCore
import SOCKSCore

/// What every session of a listener shares: deadlines, the dialer, the loggers. Made once per listener.
struct SessionSettings: Sendable {
    var handshakeTimeout: TimeAmount
    var connectTimeout: TimeAmount
    /// BIND: how long the listener waits for the peer after the first reply.
    var bindTimeout: TimeAmount
    /// UDP ASSOCIATE: the address named in the reply instead of the control connection's local address
    /// (for a server behind NAT); `nil` uses the local address.
    var udpAdvertise: SocketAddress?
    /// UDP ASSOCIATE: an association with no datagram either way for this long ends; `nil`: never.
    var udpIdleTimeout: TimeAmount?
    /// `nil`: sessions never time out for idleness.
    var idleTimeout: TimeAmount?
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
    var limits: SessionLimits
    /// Admitted sessions at once; `nil`: no limit.
    var maxSessions: Int?
    var shared: SharedLimiters
    /// Each session's own rate: the rule's, else the global one.
    var sessionBandwidth: Bandwidth?
    /// The rate a user's sessions share: the rule's, else the global one.
    var userBandwidth: Bandwidth?
    /// Which of the user's buckets the session shares: the global one, or its rule's.
    var userBandwidthScope = "global"
    /// RFC 1413 checks of SOCKS4 requests.
    var ident: IdentMode = .off
    var identTimeout: TimeAmount = .seconds(5)
    var identPort = 113
    var logger: Logger
    var accessLogger: Logger
}

extension SessionSettings {
    /// A rule's deadlines and rates in place of the listener's; a zero idle timeout disables it.
    mutating func apply(_ rule: AccessRule) {
        let overrides = rule.overrides
        if let timeout = overrides.connectTimeout { self.connectTimeout = timeout }
        if let timeout = overrides.bindTimeout { self.bindTimeout = timeout }
        if let timeout = overrides.idleTimeout { self.idleTimeout = timeout == .zero ? nil : timeout }
        if let timeout = overrides.udpIdleTimeout { self.udpIdleTimeout = timeout == .zero ? nil : timeout }
        if let bandwidth = overrides.sessionBandwidth { self.sessionBandwidth = bandwidth }
        if let bandwidth = overrides.userBandwidth {
            self.userBandwidth = bandwidth
            self.userBandwidthScope = "rule:\(rule.name)"
        }
    }
}
