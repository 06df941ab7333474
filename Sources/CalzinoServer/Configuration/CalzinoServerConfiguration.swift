import CalzinoPolicy
import NIOCore
import SOCKSCore

/// Everything a ``CalzinoServer`` needs to run. The defaults are the embedded default configuration:
/// loopback only, no authentication.
public struct CalzinoServerConfiguration: Sendable {
    /// The addresses to listen on.
    public var listeners: [SocketAddress]
    /// Listeners that may fail to bind without stopping the server (the default `[::1]` on a host without
    /// IPv6).
    public var optionalListeners: [SocketAddress]
    /// From accept to the reply: a client that sends half a request and goes silent is closed.
    public var handshakeTimeout: TimeAmount
    /// For the outbound connect, over all addresses of a name.
    public var connectTimeout: TimeAmount
    /// BIND: how long the listener waits for the peer after the first reply.
    public var bindTimeout: TimeAmount
    /// UDP ASSOCIATE: the address to name in replies instead of the control connection's local address, for
    /// a server behind NAT. Only its IP counts; the port is the association's.
    public var udpAdvertise: SocketAddress?
    /// UDP ASSOCIATE: an association with no datagram either way for this long ends; `nil`: never.
    public var udpIdleTimeout: TimeAmount?
    /// A relayed session in which no byte moves for this long is closed; `nil` disables it.
    public var idleTimeout: TimeAmount?
    /// On graceful shutdown, how long open sessions may go on before they are closed.
    public var drainTimeout: TimeAmount
    /// How CONNECT reaches its destination.
    public var dialer: any SOCKSDialer
    /// RFC 1929 users. When set, every listener requires SOCKS5 username/password and refuses SOCKS4.
    public var users: UserStore?
    /// Lets a listener on an address other than loopback run without authentication (an open proxy).
    /// Without it such a listener refuses to start.
    public var allowOpenProxy: Bool
    /// Lets sessions on a listener that faces a network reach loopback, private, link-local, metadata,
    /// multicast and unspecified destinations (denied there by default; a loopback listener allows them).
    public var allowPrivateDestinations: Bool
    /// Overrides the protected destination classes of every listener (tests use it to guard a loopback
    /// listener).
    public var protectedClasses: Set<AddressClass>?
    /// The access rules, asked about every request (and every resolved address, BIND peer and datagram).
    public var rules: AccessRules
    /// Per client, per user, handshake rate and bandwidth limits.
    public var limits: SessionLimits
    /// RFC 1413 checks of SOCKS4 requests.
    public var ident: IdentMode
    /// How long an ident query may take (connect, question, answer).
    public var identTimeout: TimeAmount
    /// The port identd listens on: 113, except in tests.
    public var identPort: Int
    /// Names for listeners, which rules match; a listener without one is named by its address (`HOST:PORT`).
    public var listenerNames: [SocketAddress: String]
    /// Concurrent sessions (admitted requests); beyond it a request is refused with 0x01 (SOCKS4: 0x5B).
    /// `nil`: no limit but `maxConnections`.
    public var maxSessions: Int?
    /// Client connections open at once, handshakes included; beyond it a new connection is closed at once,
    /// before a byte is read. `nil`: as many as the descriptor limit allows (two descriptors per session,
    /// less a reserve). The last line of defence of the process; `maxSessions` is the polite limit.
    public var maxConnections: Int?

    public static let defaultPort = 1080

    public static var defaultListeners: [SocketAddress] {
        [
            try? SocketAddress(ipAddress: "127.0.0.1", port: defaultPort),
            try? SocketAddress(ipAddress: "::1", port: defaultPort),
        ].compactMap { $0 }
    }

    public init(
        listeners: [SocketAddress] = CalzinoServerConfiguration.defaultListeners,
        optionalListeners: [SocketAddress] = [],
        handshakeTimeout: TimeAmount = .seconds(10),
        connectTimeout: TimeAmount = .seconds(10),
        bindTimeout: TimeAmount = .seconds(60),
        udpAdvertise: SocketAddress? = nil,
        udpIdleTimeout: TimeAmount? = .minutes(2),
        idleTimeout: TimeAmount? = .hours(1),
        drainTimeout: TimeAmount = .seconds(30),
        dialer: any SOCKSDialer = DirectDialer(),
        maxSessions: Int? = nil,
        maxConnections: Int? = nil,
        allowOpenProxy: Bool = false,
        allowPrivateDestinations: Bool = false,
        protectedClasses: Set<AddressClass>? = nil,
        rules: AccessRules = AccessRules(),
        listenerNames: [SocketAddress: String] = [:],
        limits: SessionLimits = SessionLimits(),
        ident: IdentMode = .off,
        identTimeout: TimeAmount = .seconds(5),
        identPort: Int = 113
    ) {
        self.listeners = listeners
        self.optionalListeners = optionalListeners
        self.handshakeTimeout = handshakeTimeout
        self.connectTimeout = connectTimeout
        self.bindTimeout = bindTimeout
        self.udpAdvertise = udpAdvertise
        self.udpIdleTimeout = udpIdleTimeout
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
        self.dialer = dialer
        self.maxSessions = maxSessions
        self.maxConnections = maxConnections
        self.allowOpenProxy = allowOpenProxy
        self.allowPrivateDestinations = allowPrivateDestinations
        self.protectedClasses = protectedClasses
        self.rules = rules
        self.listenerNames = listenerNames
        self.limits = limits
        self.ident = ident
        self.identTimeout = identTimeout
        self.identPort = identPort
    }

    /// The destination classes that only a rule naming them opens, on a listener on `address`.
    public func protectedClasses(forListener address: SocketAddress) -> Set<AddressClass> {
        if let protected = self.protectedClasses { return protected }
        if self.allowPrivateDestinations || DestinationPolicy.isLoopbackListener(address) { return [] }
        return DestinationPolicy.protectedClasses
    }

    /// The name rules use for the listener on `address`.
    public func listenerName(_ address: SocketAddress) -> String {
        self.listenerNames[address] ?? SessionRecord.format(address)
    }

    /// Refuses a configuration that would run an open proxy by accident: a listener facing a network with
    /// no authentication, unless `allowOpenProxy`.
    public func validate() throws {
        guard !self.allowOpenProxy, self.users == nil else { return }
        for address in self.listeners + self.optionalListeners where !DestinationPolicy.isLoopbackListener(address) {
            throw ConfigurationValueError(
                value: SessionRecord.format(address),
                problem: "a listener that is not on loopback would be an open proxy (no authentication is configured); configure users, or pass --allow-open-proxy (file: allow-open-proxy: true) to run it anyway"
            )
        }
    }
}
