import NIOCore
import SOCKSCore
import Testing

/// Byte vectors for every message, both ways: the reader gives the value, the writer gives the bytes.
@Suite struct WireVectorTests {
    static let example = SOCKSEndpoint(host: .name("example.com"), port: 80)
    static let loopback6 = SOCKSEndpoint(host: .ipv6(SOCKSIPv6Address(high: 0, low: 1)), port: 443)

    @Test func socks4Connect() throws {
        let bytes: [UInt8] = [4, 1, 0x00, 0x50, 127, 0, 0, 1, 0x62, 0x6F, 0x62, 0]
        let request = SOCKS4Request(command: .connect, destination: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 80), userID: "bob")
        try expectRoundTrip(bytes, request, read: { try $0.readSOCKS4Request() }, write: { $0.writeSOCKS4Request($1) })
        #expect(!request.isSOCKS4a)
    }

    @Test func socks4aConnect() throws {
        let bytes: [UInt8] = [4, 1, 0x00, 0x50, 0, 0, 0, 1, 0] + Array("example.com".utf8) + [0]
        let request = SOCKS4Request(command: .connect, destination: Self.example, userID: "")
        try expectRoundTrip(bytes, request, read: { try $0.readSOCKS4Request() }, write: { $0.writeSOCKS4Request($1) })
        #expect(request.isSOCKS4a)
    }

    @Test func socks4aAcceptsAnyNonZeroLastOctet() throws {
        var buffer = ByteBuffer(bytes: [4, 2, 0x1F, 0x90, 0, 0, 0, 0xFF, 0x41, 0] + Array("h".utf8) + [0])
        let request = try #require(try buffer.readSOCKS4Request())
        #expect(request.command == .bind)
        #expect(request.destination == SOCKSEndpoint(host: .name("h"), port: 8080))
        #expect(request.userID == "A")
    }

    @Test func socks4Reply() throws {
        let bytes: [UInt8] = [0, 0x5A, 0x1F, 0x90, 10, 0, 0, 1]
        let reply = SOCKS4Reply(code: .granted, port: 8080, address: 0x0A00_0001)
        try expectRoundTrip(bytes, reply, read: { try $0.readSOCKS4Reply() }, write: { $0.writeSOCKS4Reply($1) })
    }

    @Test func socks5Greeting() throws {
        let bytes: [UInt8] = [5, 2, 0, 2]
        let greeting = SOCKS5Greeting(methods: [.noAuthenticationRequired, .usernamePassword])
        try expectRoundTrip(bytes, greeting, read: { try $0.readSOCKS5Greeting() }, write: { $0.writeSOCKS5Greeting($1) })
    }

    @Test func socks5GreetingWithNoMethods() throws {
        try expectRoundTrip([5, 0], SOCKS5Greeting(methods: []), read: { try $0.readSOCKS5Greeting() }, write: { $0.writeSOCKS5Greeting($1) })
    }

    @Test func socks5MethodSelection() throws {
        try expectRoundTrip([5, 0xFF], SOCKS5MethodSelection(method: .noAcceptableMethods), read: { try $0.readSOCKS5MethodSelection() }, write: { $0.writeSOCKS5MethodSelection($1) })
    }

    static let requestVectors: [([UInt8], SOCKS5Request)] = {
        let v4: [UInt8] = [5, 1, 0, 1, 127, 0, 0, 1, 0, 80]
        let name: [UInt8] = [5, 1, 0, 3, 11] + Array("example.com".utf8) + [0, 80]
        let v6: [UInt8] = [5, 2, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, 1, 0xBB]
        let udp: [UInt8] = [5, 3, 0, 1, 0, 0, 0, 0, 0, 0]
        return [
            (v4, SOCKS5Request(command: .connect, destination: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 80))),
            (name, SOCKS5Request(command: .connect, destination: example)),
            (v6, SOCKS5Request(command: .bind, destination: loopback6)),
            (udp, SOCKS5Request(command: .udpAssociate, destination: .unspecified)),
        ]
    }()

    @Test(arguments: requestVectors)
    func socks5Request(bytes: [UInt8], request: SOCKS5Request) throws {
        try expectRoundTrip(bytes, request, read: { try $0.readSOCKS5Request() }, write: { $0.writeSOCKS5Request($1) })
    }

    static let replyVectors: [([UInt8], SOCKS5Reply)] = {
        let success: [UInt8] = [5, 0, 0, 1, 127, 0, 0, 1, 0xC3, 0x50]
        let failure: [UInt8] = [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]
        let v6: [UInt8] = [5, 0, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, 1, 0xBB]
        let name: [UInt8] = [5, 0, 0, 3, 1, 0x61, 0, 1]
        return [
            (success, SOCKS5Reply(code: .succeeded, bound: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 50000))),
            (failure, SOCKS5Reply(code: .hostUnreachable)),
            (v6, SOCKS5Reply(code: .succeeded, bound: loopback6)),
            (name, SOCKS5Reply(code: .succeeded, bound: SOCKSEndpoint(host: .name("a"), port: 1))),
        ]
    }()

    @Test(arguments: replyVectors)
    func socks5Reply(bytes: [UInt8], reply: SOCKS5Reply) throws {
        try expectRoundTrip(bytes, reply, read: { try $0.readSOCKS5Reply() }, write: { $0.writeSOCKS5Reply($1) })
    }

    @Test func endpointFromSocketAddress() throws {
        let v4 = try SocketAddress(ipAddress: "192.0.2.7", port: 1080)
        #expect(SOCKSEndpoint(v4) == SOCKSEndpoint(host: .ipv4(0xC000_0207), port: 1080))
        #expect(SOCKSEndpoint(v4).socketAddress == v4)
        let v6 = try SocketAddress(ipAddress: "::1", port: 443)
        #expect(SOCKSEndpoint(v6) == Self.loopback6)
        #expect(SOCKSEndpoint(v6).socketAddress == v6)
        #expect(Self.loopback6.description == "[::1]:443")
        #expect(SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 8).description == "127.0.0.1:8")
    }
}

/// Reads `bytes` as a value equal to `value` with nothing left over, checks that every strict prefix reads
/// as "need more bytes" with the reader index unmoved, and that the writer produces exactly `bytes`.
func expectRoundTrip<T: Equatable>(
    _ bytes: [UInt8],
    _ value: T,
    read: (inout ByteBuffer) throws -> T?,
    write: (inout ByteBuffer, T) -> Int,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var buffer = ByteBuffer(bytes: bytes)
    let decoded = try read(&buffer)
    #expect(decoded == value, sourceLocation: sourceLocation)
    #expect(buffer.readableBytes == 0, sourceLocation: sourceLocation)

    for length in 0..<bytes.count {
        var prefix = ByteBuffer(bytes: bytes[0..<length])
        let before = prefix.readerIndex
        let partial = try read(&prefix)
        #expect(partial == nil, "prefix of \(length) bytes", sourceLocation: sourceLocation)
        #expect(prefix.readerIndex == before, "prefix of \(length) bytes moved the reader", sourceLocation: sourceLocation)
    }

    var out = ByteBuffer()
    let written = write(&out, value)
    #expect(written == bytes.count, sourceLocation: sourceLocation)
    #expect(Array(out.readableBytesView) == bytes, sourceLocation: sourceLocation)
}

@Suite struct GreetingSelectionTests {
    @Test func selectsTheFirstAcceptedMethodOffered() throws {
        var buffer = ByteBuffer(bytes: [5, 3, 2, 1, 0])
        #expect(try buffer.readSOCKS5GreetingSelecting(from: [.usernamePassword, .noAuthenticationRequired]) == .some(.usernamePassword))
        #expect(buffer.readableBytes == 0)
        var none = ByteBuffer(bytes: [5, 1, 1])
        #expect(try none.readSOCKS5GreetingSelecting(from: [.noAuthenticationRequired]) == .some(nil))
        var partial = ByteBuffer(bytes: [5, 2, 0])
        #expect(try partial.readSOCKS5GreetingSelecting(from: [.noAuthenticationRequired]) == nil)
        #expect(partial.readableBytes == 3)
    }
}
