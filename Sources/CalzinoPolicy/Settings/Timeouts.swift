import NIOCore

/// The deadlines of the server and its sessions. One type for the command line, the configuration file,
/// rule overrides and the server: a layer that sets only some of them (a flag, a file's `timeouts:`, a
/// rule's `timeouts:`) is a `Timeouts.Settings`, applied over a complete value with `applying(_:)`.
public struct Timeouts: Hashable, Sendable {
    /// From accept to the reply: a client that sends half a request and goes silent is closed.
    public var handshake: TimeAmount
    /// For the outbound connect, over all addresses of a name.
    public var connect: TimeAmount
    /// BIND: how long the listener waits for the peer after the first reply.
    public var bind: TimeAmount
    /// A relayed session in which no byte moves for this long is closed; `.zero` disables it.
    public var idle: TimeAmount
    /// A UDP association with no datagram either way for this long ends; `.zero` disables it.
    public var udpIdle: TimeAmount
    /// On graceful shutdown, how long open sessions may go on before they are closed.
    public var drain: TimeAmount
    /// How long an RFC 1413 query may take (connect, question, answer).
    public var ident: TimeAmount

    /// The defaults are the embedded configuration's.
    public init(
        handshake: TimeAmount = .seconds(10),
        connect: TimeAmount = .seconds(10),
        bind: TimeAmount = .seconds(60),
        idle: TimeAmount = .hours(1),
        udpIdle: TimeAmount = .minutes(2),
        drain: TimeAmount = .seconds(30),
        ident: TimeAmount = .seconds(5)
    ) {
        self.handshake = handshake
        self.connect = connect
        self.bind = bind
        self.idle = idle
        self.udpIdle = udpIdle
        self.drain = drain
        self.ident = ident
    }

    /// Each deadline by its name in the configuration file (`timeouts.NAME`); the flag is `--NAME-timeout`.
    public enum Key: String, CaseIterable, Hashable, Sendable, Comparable {
        case handshake
        case connect
        case bind
        case idle
        case udpIdle = "udp-idle"
        case drain
        case ident

        /// Whether a rule may set it for the sessions it allows.
        public var isPerRule: Bool {
            switch self {
            case .connect, .bind, .idle, .udpIdle: return true
            case .handshake, .drain, .ident: return false
            }
        }

        /// Whether `0` turns it off; for the others zero means at once (a zero drain closes open sessions on
        /// shutdown without waiting).
        public var zeroDisables: Bool {
            switch self {
            case .idle, .udpIdle: return true
            case .handshake, .connect, .bind, .drain, .ident: return false
            }
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (Self.allCases.firstIndex(of: lhs) ?? 0) < (Self.allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// The deadlines one layer sets.
    public typealias Settings = [Key: TimeAmount]

    public subscript(key: Key) -> TimeAmount {
        get {
            switch key {
            case .handshake: return self.handshake
            case .connect: return self.connect
            case .bind: return self.bind
            case .idle: return self.idle
            case .udpIdle: return self.udpIdle
            case .drain: return self.drain
            case .ident: return self.ident
            }
        }
        set {
            switch key {
            case .handshake: self.handshake = newValue
            case .connect: self.connect = newValue
            case .bind: self.bind = newValue
            case .idle: self.idle = newValue
            case .udpIdle: self.udpIdle = newValue
            case .drain: self.drain = newValue
            case .ident: self.ident = newValue
            }
        }
    }

    /// These deadlines with `settings` in place.
    public func applying(_ settings: Settings) -> Timeouts {
        var timeouts = self
        for (key, value) in settings {
            timeouts[key] = value
        }
        return timeouts
    }

    /// The idle timeout, `nil` when disabled.
    public var idleLimit: TimeAmount? { self.idle == .zero ? nil : self.idle }
    /// The UDP idle timeout, `nil` when disabled.
    public var udpIdleLimit: TimeAmount? { self.udpIdle == .zero ? nil : self.udpIdle }
}
