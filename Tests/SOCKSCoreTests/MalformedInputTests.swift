import NIOCore
import SOCKSCore
import Testing

/// Malformed messages give the expected typed error and leave the reader where it was.
@Suite struct MalformedInputTests {
    func expectError<T>(_ bytes: [UInt8], _ code: SOCKSProtocolError.Code, read: (inout ByteBuffer) throws -> T?, sourceLocation: SourceLocation = #_sourceLocation) {
        var buffer = ByteBuffer(bytes: bytes)
        let before = buffer.readerIndex
        #expect(throws: SOCKSProtocolError(code, ""), sourceLocation: sourceLocation) { _ = try read(&buffer) }
        #expect(buffer.readerIndex == before, sourceLocation: sourceLocation)
    }

    @Test func badVersions() {
        expectError([5, 1, 0, 80, 127, 0, 0, 1, 0], .invalidVersion) { try $0.readSOCKS4Request() }
        expectError([4, 1, 0], .invalidVersion) { try $0.readSOCKS5Greeting() }
        expectError([4, 1, 0, 1, 1, 1, 1, 1, 0, 80], .invalidVersion) { try $0.readSOCKS5Request() }
        expectError([5, 0x5A, 0, 0, 0, 0, 0, 0], .invalidVersion) { try $0.readSOCKS4Reply() }
        expectError([4, 0], .invalidVersion) { try $0.readSOCKS5MethodSelection() }
        expectError([4, 0, 0, 1, 0, 0, 0, 0, 0, 0], .invalidVersion) { try $0.readSOCKS5Reply() }
    }

    @Test func domainOfLengthZero() {
        expectError([5, 1, 0, 3, 0, 0, 80], .emptyDomainName) { try $0.readSOCKS5Request() }
        expectError([4, 1, 0, 80, 0, 0, 0, 1, 0, 0], .emptyDomainName) { try $0.readSOCKS4Request() }
    }

    @Test(arguments: [0 as UInt8, 2, 5, 0xFF])
    func unknownAddressType(atyp: UInt8) {
        expectError([5, 1, 0, atyp, 1, 2, 3, 4, 0, 80], .unsupportedAddressType) { try $0.readSOCKS5Request() }
    }

    @Test func userIDWithoutNULWithinBound() throws {
        let long = [UInt8](repeating: 0x41, count: SOCKS4Request.maximumFieldLength + 1)
        expectError([4, 1, 0, 80, 127, 0, 0, 1] + long, .fieldTooLong) { try $0.readSOCKS4Request() }
        // At exactly the bound without a NUL yet, more bytes may still bring it.
        var atBound = ByteBuffer(bytes: [4, 1, 0, 80, 127, 0, 0, 1] + long.dropLast())
        #expect(try atBound.readSOCKS4Request() == nil)
        // The longest allowed USERID is accepted.
        var longest = ByteBuffer(bytes: [4, 1, 0, 80, 127, 0, 0, 1] + long.dropLast() + [0])
        #expect(try longest.readSOCKS4Request()?.userID.utf8.count == SOCKS4Request.maximumFieldLength)
    }

    @Test func socks4aNameWithoutNULWithinBound() {
        let long = [UInt8](repeating: 0x61, count: SOCKS4Request.maximumFieldLength + 1)
        expectError([4, 1, 0, 80, 0, 0, 0, 9, 0] + long, .fieldTooLong) { try $0.readSOCKS4Request() }
    }

    @Test func nameThatIsNotUTF8() {
        expectError([5, 1, 0, 3, 2, 0xFF, 0xFE, 0, 80], .invalidUTF8) { try $0.readSOCKS5Request() }
    }

    @Test func truncatedRequestsNeedMoreBytes() throws {
        var buffer = ByteBuffer(bytes: [5, 1, 0, 3, 200, 0x61])
        #expect(try buffer.readSOCKS5Request() == nil)
        #expect(buffer.readableBytes == 6)
    }
}
