import NIOCore

/// A malformed or unacceptable SOCKS message.
///
/// Equality compares the ``Code`` only, so tests can match on the kind of failure while the
/// detail message stays free to say more.
public struct SOCKSProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of protocol violation.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unknownVersion
            case invalidVersion
            case emptyMethodList
            case emptyDomainName
            case unsupportedAddressType
            case fieldTooLong
            case invalidUTF8
            case unexpectedBytes
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The first byte of a connection is neither 0x04 nor 0x05.
        public static let unknownVersion = Code(.unknownVersion)
        /// A later message carries the wrong version byte.
        public static let invalidVersion = Code(.invalidVersion)
        /// A SOCKS5 greeting with NMETHODS = 0.
        public static let emptyMethodList = Code(.emptyMethodList)
        /// A destination name of length zero.
        public static let emptyDomainName = Code(.emptyDomainName)
        /// An ATYP other than 0x01, 0x03 or 0x04.
        public static let unsupportedAddressType = Code(.unsupportedAddressType)
        /// A NUL-terminated field (SOCKS4 USERID or SOCKS4a name) longer than its bound.
        public static let fieldTooLong = Code(.fieldTooLong)
        /// A destination name that is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// Bytes arrived where the protocol allows none (for example after a failure reply).
        public static let unexpectedBytes = Code(.unexpectedBytes)

        public var description: String { String(describing: self.base) }
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public static func == (lhs: SOCKSProtocolError, rhs: SOCKSProtocolError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public var description: String { "SOCKSProtocolError.\(self.code): \(self.detail)" }
}
