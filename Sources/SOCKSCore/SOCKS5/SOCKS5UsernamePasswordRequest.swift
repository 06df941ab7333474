import NIOCore

/// RFC 1929 username/password request: `VER=1 | ULEN | UNAME | PLEN | PASSWD`, each field 1 to 255 bytes.
/// Its `description` never shows the password.
public struct SOCKS5UsernamePasswordRequest: Hashable, Sendable, CustomStringConvertible {
    public var username: [UInt8]
    public var password: [UInt8]

    public init(username: [UInt8], password: [UInt8]) {
        self.username = username
        self.password = password
    }

    public init(username: String, password: String) {
        self.init(username: Array(username.utf8), password: Array(password.utf8))
    }

    public var description: String {
        "SOCKS5UsernamePasswordRequest(username: \(String(decoding: self.username, as: UTF8.self)), password: <\(self.password.count) bytes>)"
    }
}

/// RFC 1929 response: `VER=1 | STATUS`; 0 is success, anything else failure (and the server closes).
public struct SOCKS5UsernamePasswordResponse: Hashable, Sendable {
    public var status: UInt8

    public init(status: UInt8) {
        self.status = status
    }

    public static let success = SOCKS5UsernamePasswordResponse(status: 0x00)
    public static let failure = SOCKS5UsernamePasswordResponse(status: 0x01)
}

extension ByteBuffer {
    /// Reads an RFC 1929 request. `nil` means more bytes are needed; an empty field or a version other than
    /// 1 is malformed.
    public mutating func readSOCKS5UsernamePasswordRequest() throws -> SOCKS5UsernamePasswordRequest? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x01 else {
                throw SOCKSProtocolError(.invalidVersion, "RFC 1929 request with version \(version)")
            }
            guard let usernameLength = buffer.readInteger(as: UInt8.self) else { return nil }
            guard usernameLength > 0 else { throw SOCKSProtocolError(.fieldTooLong, "empty RFC 1929 username") }
            guard let username = buffer.readBytes(length: Int(usernameLength)),
                let passwordLength = buffer.readInteger(as: UInt8.self)
            else { return nil }
            guard passwordLength > 0 else { throw SOCKSProtocolError(.fieldTooLong, "empty RFC 1929 password") }
            guard let password = buffer.readBytes(length: Int(passwordLength)) else { return nil }
            return SOCKS5UsernamePasswordRequest(username: username, password: password)
        }
    }

    /// Writes an RFC 1929 request; fields longer than 255 bytes are cut to 255.
    @discardableResult
    public mutating func writeSOCKS5UsernamePasswordRequest(_ request: SOCKS5UsernamePasswordRequest) -> Int {
        let username = request.username.prefix(255)
        let password = request.password.prefix(255)
        return self.writeInteger(UInt8(0x01)) + self.writeInteger(UInt8(truncatingIfNeeded: username.count))
            + self.writeBytes(username) + self.writeInteger(UInt8(truncatingIfNeeded: password.count)) + self.writeBytes(password)
    }

    public mutating func readSOCKS5UsernamePasswordResponse() throws -> SOCKS5UsernamePasswordResponse? {
        try self.parseUnwindingIfNeeded { buffer in
            guard let version = buffer.readInteger(as: UInt8.self) else { return nil }
            guard version == 0x01 else {
                throw SOCKSProtocolError(.invalidVersion, "RFC 1929 response with version \(version)")
            }
            guard let status = buffer.readInteger(as: UInt8.self) else { return nil }
            return SOCKS5UsernamePasswordResponse(status: status)
        }
    }

    @discardableResult
    public mutating func writeSOCKS5UsernamePasswordResponse(_ response: SOCKS5UsernamePasswordResponse) -> Int {
        self.writeInteger(UInt8(0x01)) + self.writeInteger(response.status)
    }
}
