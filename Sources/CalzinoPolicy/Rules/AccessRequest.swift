import SOCKSCore

/// What a rule is asked about: who asks, through which listener, for what. Destination fields that are not
/// known yet (a name before it resolves, any destination of a UDP association before its first datagram)
/// are `nil`, and rules that look at them cannot decide yet.
public struct AccessRequest: Sendable {
    public enum Command: String, Hashable, Sendable, CaseIterable {
        case connect
        case bind
        case udp
    }

    public var listener: String
    public var client: SOCKSHost
    /// The RFC 1929 user, or for SOCKS4 the USERID an ident query confirmed; `nil` when anonymous.
    public var user: String?
    public var version: SOCKSClientRequest.Version
    public var command: Command
    /// The name the client asked for (SOCKS4a, SOCKS5 DOMAINNAME), also once it has resolved.
    public var destinationName: String?
    /// The destination address: given by the client, or one that the name resolved to.
    public var destinationAddress: SOCKSHost?
    public var destinationPort: UInt16?

    public init(
        listener: String,
        client: SOCKSHost,
        user: String?,
        version: SOCKSClientRequest.Version,
        command: Command,
        destinationName: String? = nil,
        destinationAddress: SOCKSHost? = nil,
        destinationPort: UInt16? = nil
    ) {
        self.listener = listener
        self.client = client
        self.user = user
        self.version = version
        self.command = command
        self.destinationName = destinationName
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
    }

    /// Sets the destination from an endpoint as the client sent it.
    public mutating func setDestination(_ endpoint: SOCKSEndpoint) {
        self.destinationPort = endpoint.port
        if case .name(let name) = endpoint.host {
            self.destinationName = name
            self.destinationAddress = nil
        } else {
            self.destinationName = nil
            self.destinationAddress = endpoint.host
        }
    }
}
