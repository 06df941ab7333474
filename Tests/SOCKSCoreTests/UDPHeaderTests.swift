import NIOCore
import SOCKSCore
import Testing

@Suite struct UDPHeaderTests {
    static let vectors: [([UInt8], SOCKSUDPHeader)] = {
        let v4: [UInt8] = [0, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90]
        let v6: [UInt8] = [0, 0, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, 0, 53]
        let name: [UInt8] = [0, 0, 0, 3, 9] + Array("localhost".utf8) + [0, 7]
        let fragment: [UInt8] = [0, 0, 2, 1, 10, 0, 0, 1, 0, 1]
        return [
            (v4, SOCKSUDPHeader(endpoint: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 8080))),
            (v6, SOCKSUDPHeader(endpoint: SOCKSEndpoint(host: .ipv6(SOCKSIPv6Address(high: 0, low: 1)), port: 53))),
            (name, SOCKSUDPHeader(endpoint: SOCKSEndpoint(host: .name("localhost"), port: 7))),
            (fragment, SOCKSUDPHeader(fragment: 2, endpoint: SOCKSEndpoint(host: .ipv4(0x0A00_0001), port: 1))),
        ]
    }()

    @Test(arguments: vectors)
    func roundTrip(bytes: [UInt8], header: SOCKSUDPHeader) throws {
        try expectRoundTrip(bytes, header, read: { try $0.readSOCKSUDPHeader() }, write: { $0.writeSOCKSUDPHeader($1) })
    }

    @Test func dataFollowsTheHeader() throws {
        var datagram = ByteBuffer(bytes: [0, 0, 0, 1, 127, 0, 0, 1, 0, 7, 0xAA, 0xBB])
        let header = try #require(try datagram.readSOCKSUDPHeader())
        #expect(header.endpoint.port == 7)
        #expect(Array(datagram.readableBytesView) == [0xAA, 0xBB])
    }

    @Test func malformedHeaders() {
        var badType = ByteBuffer(bytes: [0, 0, 0, 9, 1, 2, 3, 4, 0, 1])
        #expect(throws: SOCKSProtocolError(.unsupportedAddressType, "")) { try badType.readSOCKSUDPHeader() }
        var emptyName = ByteBuffer(bytes: [0, 0, 0, 3, 0, 0, 1])
        #expect(throws: SOCKSProtocolError(.emptyDomainName, "")) { try emptyName.readSOCKSUDPHeader() }
    }
}
