import NIOCore

/// A SOCKS4 or SOCKS4a request: `VN=4 | CD | DSTPORT | DSTIP | USERID | NUL [| NAME | NUL]`.
public struct SOCKS4Request: Hashable, Sendable {
    /// The longest USERID (and SOCKS4a name) we wait for before calling the request malformed.
    public static let maximumFieldLength = 255

    public var command: SOCKS4Command
    /// The destination. A `.name` host is sent as SOCKS4a (DSTIP 0.0.0.1 and the name after USERID).
    public var destination: SOCKSEndpoint
    /// The USERID field, as raw bytes decoded leniently (it is informational unless ident is checked).
    public var userID: String

    public init(command: SOCKS4Command, destination: SOCKSEndpoint, userID: String = "") {
        self.command = command
        self.destination = destination
        self.userID = userID
    }

    /// Whether the request uses the SOCKS4a extension (the server resolves the name).
    public var isSOCKS4a: Bool {
        if case .name = self.destination.host { return true }
        return false
    }
}

extension ByteBuffer {
    /// Reads a SOCKS4/4a request, version byte included. `nil` means more bytes are needed.
    public mutating func readSOCKS4Request() throws -> SOCKS4Request? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x04 else {
                throw SOCKSProtocolError(.invalidVersion, "SOCKS4 request with version \(version)")
            }
            guard let command = buffer.readInteger(as: UInt8.self),
                let port = buffer.readInteger(as: UInt16.self),
                let address = buffer.readInteger(as: UInt32.self)
            else { return nil }
            guard
                let userID = try buffer.readNULTerminatedField(
                    limit: SOCKS4Request.maximumFieldLength,
                    name: "USERID"
                )
            else { return nil }
            let host: SOCKSHost
            // SOCKS4a: DSTIP 0.0.0.x with x != 0 announces a name after the USERID.
            if address != 0 && address <= 0xFF {
                guard
                    let nameBytes = try buffer.readNULTerminatedField(
                        limit: SOCKS4Request.maximumFieldLength,
                        name: "SOCKS4a host name"
                    )
                else { return nil }
                guard nameBytes.readableBytes > 0 else {
                    throw SOCKSProtocolError(.emptyDomainName, "SOCKS4a host name of length 0")
                }
                guard let name = nameBytes.validUTF8String() else {
                    throw SOCKSProtocolError(.invalidUTF8, "SOCKS4a host name is not UTF-8")
                }
                host = .name(name)
            } else {
                host = .ipv4(address)
            }
            // Refused rather than decoded with replacement characters: a lossy USERID could match an
            // ident answer or a rule that the client's real bytes do not.
            guard let userIDString = userID.validUTF8String() else {
                throw SOCKSProtocolError(.invalidUTF8, "USERID is not UTF-8")
            }
            return SOCKS4Request(
                command: SOCKS4Command(rawValue: command),
                destination: SOCKSEndpoint(host: host, port: port),
                userID: userIDString
            )
        }
    }

    /// Writes a SOCKS4 request, or a SOCKS4a one when the destination is a name. An IPv6 destination
    /// cannot be expressed in SOCKS4 and is written as 0.0.0.0; clients check this before writing.
    @discardableResult
    public mutating func writeSOCKS4Request(_ request: SOCKS4Request) -> Int {
        var written = self.writeInteger(UInt8(0x04))
        written += self.writeInteger(request.command.rawValue)
        written += self.writeInteger(request.destination.port)
        switch request.destination.host {
        case .ipv4(let address):
            written += self.writeInteger(address)
        case .ipv6:
            written += self.writeInteger(UInt32(0))
        case .name:
            written += self.writeInteger(UInt32(1))
        }
        written += self.writeBytes(request.userID.utf8Prefix(SOCKS4Request.maximumFieldLength))
        written += self.writeInteger(UInt8(0))
        if case .name(let name) = request.destination.host {
            written += self.writeBytes(name.utf8Prefix(SOCKS4Request.maximumFieldLength))
            written += self.writeInteger(UInt8(0))
        }
        return written
    }
}
