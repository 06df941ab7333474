import NIOCore

extension ByteBuffer {
    /// Runs a reader and puts the reader index back where it was unless the reader produced a value:
    /// "need more bytes" (`nil`) and "malformed" (a throw) both leave the buffer untouched.
    @inlinable
    mutating func parseUnwindingIfNeeded<T>(_ closure: (inout ByteBuffer) throws -> T?) rethrows -> T? {
        let saved = self.readerIndex
        do {
            guard let value = try closure(&self) else {
                self.moveReaderIndex(to: saved)
                return nil
            }
            return value
        } catch {
            self.moveReaderIndex(to: saved)
            throw error
        }
    }

    /// Reads an RFC 1928 address (ATYP, then DST.ADDR, then DST.PORT).
    mutating func readSOCKS5Endpoint() throws -> SOCKSEndpoint? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let addressType = buffer.readInteger(as: UInt8.self) else { return nil }
            let host: SOCKSHost
            switch addressType {
            case 0x01:
                guard let address = buffer.readInteger(as: UInt32.self) else { return nil }
                host = .ipv4(address)
            case 0x03:
                guard let length = buffer.readInteger(as: UInt8.self) else { return nil }
                guard length > 0 else {
                    throw SOCKSProtocolError(.emptyDomainName, "domain name of length 0")
                }
                guard let bytes = buffer.readSlice(length: Int(length)) else { return nil }
                guard let name = bytes.validUTF8String() else {
                    throw SOCKSProtocolError(.invalidUTF8, "domain name is not UTF-8")
                }
                host = .name(name)
            case 0x04:
                guard let high = buffer.readInteger(as: UInt64.self),
                    let low = buffer.readInteger(as: UInt64.self)
                else { return nil }
                host = .ipv6(SOCKSIPv6Address(high: high, low: low))
            default:
                throw SOCKSProtocolError(.unsupportedAddressType, "ATYP \(addressType)")
            }
            guard let port = buffer.readInteger(as: UInt16.self) else { return nil }
            return SOCKSEndpoint(host: host, port: port)
        }
    }

    /// Writes an RFC 1928 address. A name longer than 255 bytes is cut at 255 so that the length byte
    /// stays true; callers that build requests validate names before this point.
    @discardableResult
    mutating func writeSOCKS5Endpoint(_ endpoint: SOCKSEndpoint) -> Int {
        var written = 0
        switch endpoint.host {
        case .ipv4(let address):
            written += self.writeInteger(UInt8(0x01))
            written += self.writeInteger(address)
        case .ipv6(let address):
            written += self.writeInteger(UInt8(0x04))
            written += self.writeInteger(address.high)
            written += self.writeInteger(address.low)
        case .name(let name):
            let bytes = name.utf8Prefix(255)
            written += self.writeInteger(UInt8(0x03))
            written += self.writeInteger(UInt8(truncatingIfNeeded: bytes.count))
            written += self.writeBytes(bytes)
        }
        written += self.writeInteger(endpoint.port)
        return written
    }

    /// Reads bytes up to a NUL terminator that must come within `limit` bytes; returns the bytes without
    /// the NUL and consumes the NUL.
    mutating func readNULTerminatedField(limit: Int, name: String) throws -> ByteBuffer? {
        try self.parseUnwindingIfNeeded { buffer in
            let searchable = min(buffer.readableBytes, limit + 1)
            let view = buffer.readableBytesView.prefix(searchable)
            guard let terminator = view.firstIndex(of: 0) else {
                if searchable > limit {
                    throw SOCKSProtocolError(.fieldTooLong, "\(name) has no NUL within \(limit) bytes")
                }
                return nil
            }
            let length = view.distance(from: view.startIndex, to: terminator)
            guard let field = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 1)
            return field
        }
    }

    /// The readable bytes as a `String` if they are valid UTF-8.
    func validUTF8String() -> String? {
        String(validating: self.readableBytesView, as: UTF8.self)
    }
}

extension String {
    /// The longest prefix of the UTF-8 bytes, at most `limit`, that ends on a character boundary: a field cut
    /// to its wire limit still reads back as text.
    func utf8Prefix(_ limit: Int) -> Substring.UTF8View {
        var end = self.startIndex
        var count = 0
        for index in self.unicodeScalars.indices {
            let length = self.unicodeScalars[index].utf8.count
            guard count + length <= limit else { break }
            count += length
            end = self.unicodeScalars.index(after: index)
        }
        return self[..<end].utf8
    }
}
