import NIOCore
import SOCKSCore
import Testing

@Suite struct UsernamePasswordTests {
    @Test func request() throws {
        let bytes: [UInt8] = [1, 3] + Array("bob".utf8) + [6] + Array("secret".utf8)
        try expectRoundTrip(bytes, SOCKS5UsernamePasswordRequest(username: "bob", password: "secret"), read: { try $0.readSOCKS5UsernamePasswordRequest() }, write: { $0.writeSOCKS5UsernamePasswordRequest($1) })
    }

    @Test func longestFields() throws {
        let name = [UInt8](repeating: 0x61, count: 255)
        let bytes: [UInt8] = [1, 255] + name + [255] + name
        try expectRoundTrip(bytes, SOCKS5UsernamePasswordRequest(username: name, password: name), read: { try $0.readSOCKS5UsernamePasswordRequest() }, write: { $0.writeSOCKS5UsernamePasswordRequest($1) })
    }

    @Test func response() throws {
        try expectRoundTrip([1, 0], SOCKS5UsernamePasswordResponse.success, read: { try $0.readSOCKS5UsernamePasswordResponse() }, write: { $0.writeSOCKS5UsernamePasswordResponse($1) })
        try expectRoundTrip([1, 1], SOCKS5UsernamePasswordResponse.failure, read: { try $0.readSOCKS5UsernamePasswordResponse() }, write: { $0.writeSOCKS5UsernamePasswordResponse($1) })
    }

    @Test func malformed() {
        var badVersion = ByteBuffer(bytes: [5, 1, 0x61, 1, 0x62])
        #expect(throws: SOCKSProtocolError(.invalidVersion, "")) { try badVersion.readSOCKS5UsernamePasswordRequest() }
        #expect(badVersion.readerIndex == 0)
        var emptyName = ByteBuffer(bytes: [1, 0, 1, 0x62])
        #expect(throws: SOCKSProtocolError.self) { try emptyName.readSOCKS5UsernamePasswordRequest() }
        var emptyPassword = ByteBuffer(bytes: [1, 1, 0x61, 0])
        #expect(throws: SOCKSProtocolError.self) { try emptyPassword.readSOCKS5UsernamePasswordRequest() }
    }

    @Test func thePasswordNeverShows() {
        let request = SOCKS5UsernamePasswordRequest(username: "bob", password: "hunter2")
        #expect(!"\(request)".contains("hunter2"))
        #expect("\(request)".contains("bob"))
    }
}
