import CalzinoPolicy
import CoreMetrics
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
    /// Every deadline: handshake, connect, BIND, idle, UDP idle, drain, ident.
    public var timeouts: Timeouts
    /// UDP ASSOCIATE: the address to name in replies instead of the control connection's local address, for
    /// a server behind NAT. Only its IP counts; the port is the association's.
    public var udpAdvertise: SocketAddress?
    /// UDP ASSOCIATE: which source port the client's datagrams must come from.
    public var udpClientPort: UDPClientPort = .declared
    /// UDP ASSOCIATE: which datagrams from destinations go back to the client.
    public var udpReplies: UDPReplies = .sentTo
    /// How CONNECT reaches its destination.
    public var dialer: any SOCKSDialer
    /// RFC 1929 users. When set, every listener requires SOCKS5 username/password and refuses SOCKS4.
    public var users: UserStore?
    /// Lets a listener on an address other than loopback run without authentication (an open proxy).
    /// Without it such a listener refuses to start.
    public var allowOpenProxy: Bool
    /// Lets sessions on a listener that faces a network reach loopback, private, link-local, metadata,
    /// multicast, unspecified and reserved destinations (denied there by default; a loopback listener allows them).
    public var allowPrivateDestinations: Bool
    /// Overrides the protected destination classes of every listener (tests use it to guard a loopback
    /// listener).
    public var protectedClasses: Set<AddressClass>?
    /// The access rules, asked about every request (and every resolved address, BIND peer and datagram).
    public var rules: AccessRules
    /// Connections, sessions (in all, per client, per user), handshake rate and bandwidth.
    public var limits: Limits
    /// RFC 1413 checks of SOCKS4 requests.
    public var ident: IdentMode
    /// The port identd listens on: 113, except in tests.
    public var identPort: Int
    /// How the access log is written: the text line (default) or fields for a JSON log handler.
    public var logFormat: LogFormat = .text
    /// Where the server's metrics go (issue 13: the executable's admin listener uses swift-prometheus);
    /// `nil`: no metrics, and no cost for them. Fixed at the server's creation: a reload keeps the first.
    public var metricsFactory: (any MetricsFactory)?
    /// The descriptor limit to plan with instead of the process's (tests: a small capacity without
    /// lowering the test process's own limit).
    var descriptorLimit: Int?
    /// Names for listeners, which rules match; a listener without one is named by its address (`HOST:PORT`).
    public var listenerNames: [SocketAddress: String]

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
        timeouts: Timeouts = Timeouts(),
        udpAdvertise: SocketAddress? = nil,
        dialer: any SOCKSDialer = DirectDialer(),
        allowOpenProxy: Bool = false,
        allowPrivateDestinations: Bool = false,
        protectedClasses: Set<AddressClass>? = nil,
        rules: AccessRules = AccessRules(),
        listenerNames: [SocketAddress: String] = [:],
        limits: Limits = Limits(),
        ident: IdentMode = .off,
        identPort: Int = 113
    ) {
        self.listeners = listeners
        self.optionalListeners = optionalListeners
        self.timeouts = timeouts
        self.udpAdvertise = udpAdvertise
        self.dialer = dialer
        self.allowOpenProxy = allowOpenProxy
        self.allowPrivateDestinations = allowPrivateDestinations
        self.protectedClasses = protectedClasses
        self.rules = rules
        self.listenerNames = listenerNames
        self.limits = limits
        self.ident = ident
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
        self.listenerNames[address] ?? AddressText.format(address)
    }

    /// Refuses a configuration that would run an open proxy by accident: a listener facing a network with
    /// no authentication, unless `allowOpenProxy`.
    public func validate() throws {
        guard !self.allowOpenProxy, self.users == nil else { return }
        for address in self.listeners + self.optionalListeners where !DestinationPolicy.isLoopbackListener(address) {
            throw CalzinoServerError(
                .openProxyRefused,
                value: AddressText.format(address),
                problem: "a listener that is not on loopback would be an open proxy (no authentication is configured); configure users, or pass --allow-open-proxy (file: allow-open-proxy: true) to run it anyway"
            )
        }
    }
}
