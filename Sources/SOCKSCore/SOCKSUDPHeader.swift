import NIOCore

/// The header of every datagram relayed by a UDP association (RFC 1928 section 7):
/// `RSV (2) | FRAG | ATYP | DST.ADDR | DST.PORT`, followed by the data. From the client, the endpoint is the
/// destination; towards the client, the source the reply came from.
public struct SOCKSUDPHeader: Hashable, Sendable {
    /// The fragment number; 0 is a whole datagram. A server that does not reassemble drops every other value.
    public var fragment: UInt8
    public var endpoint: SOCKSEndpoint

    public init(fragment: UInt8 = 0, endpoint: SOCKSEndpoint) {
        self.fragment = fragment
        self.endpoint = endpoint
    }
}

extension ByteBuffer {
    /// Reads the header at the front of a datagram. A datagram is whole, so a short one is malformed
    /// rather than "need more bytes": `nil` here means the datagram is truncated. RSV is not checked.
    public mutating func readSOCKSUDPHeader() throws -> SOCKSUDPHeader? {
        try self.parseUnwindingIfNeeded { buffer in
            guard buffer.readInteger(as: UInt16.self) != nil,
                let fragment = buffer.readInteger(as: UInt8.self),
                let endpoint = try buffer.readSOCKS5Endpoint()
            else { return nil }
            return SOCKSUDPHeader(fragment: fragment, endpoint: endpoint)
        }
    }

    @discardableResult
    public mutating func writeSOCKSUDPHeader(_ header: SOCKSUDPHeader) -> Int {
        self.writeInteger(UInt16(0)) + self.writeInteger(header.fragment) + self.writeSOCKS5Endpoint(header.endpoint)
    }
}
