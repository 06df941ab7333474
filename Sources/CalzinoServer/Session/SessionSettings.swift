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
    /// `SOCKSServerHandshakeHandler.closeAfterReply`).
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
    var logger: Logger
    var accessLogger: Logger
}

extension SessionSettings {
    /// A rule's deadlines in place of the listener's; a zero idle timeout disables it.
    mutating func apply(_ overrides: RuleOverrides) {
        if let timeout = overrides.connectTimeout { self.connectTimeout = timeout }
        if let timeout = overrides.bindTimeout { self.bindTimeout = timeout }
        if let timeout = overrides.idleTimeout { self.idleTimeout = timeout == .zero ? nil : timeout }
        if let timeout = overrides.udpIdleTimeout { self.udpIdleTimeout = timeout == .zero ? nil : timeout }
    }
}
