import NIOCore
import SOCKSCore
import Testing

/// Inputs the fuzzers (Fuzz/, scripts/fuzz.sh) found, kept as tests. Each names the harness and the
/// property it broke.
@Suite struct FuzzRegressionTests {
    /// FuzzMessages, round trip: a USERID that is not UTF-8 was decoded with replacement characters, which
    /// write back longer (3 bytes each) and then read back cut. Such a USERID is now refused.
    @Test func socks4UserIDThatIsNotUTF8IsRefused() {
        var buffer = ByteBuffer(bytes: [4, 1, 0, 165, 165, 165, 165, 93, 0xA5, 0xFF, 0x50, 0])
        #expect(throws: SOCKSProtocolError(.invalidUTF8, "")) { _ = try buffer.readSOCKS4Request() }
        #expect(buffer.readerIndex == 0)
    }

    /// FuzzMessages, round trip: the writer cut long fields at 255 bytes, possibly inside a character. It now
    /// cuts at a character boundary, so what it writes reads back.
    @Test func longMultibyteFieldsAreCutOnACharacter() throws {
        let userID = String(repeating: "é", count: 200)  // 400 bytes
        var buffer = ByteBuffer()
        buffer.writeSOCKS4Request(SOCKS4Request(command: .connect, destination: SOCKSEndpoint(host: .name(String(repeating: "ü", count: 130)), port: 80), userID: userID))
        let read = try #require(try buffer.readSOCKS4Request())
        #expect(read.userID == String(repeating: "é", count: 127))
        #expect(read.destination.host == .name(String(repeating: "ü", count: 127)))
        var socks5 = ByteBuffer()
        socks5.writeSOCKS5Request(SOCKS5Request(command: .connect, destination: SOCKSEndpoint(host: .name(String(repeating: "€", count: 100)), port: 1)))
        let request = try #require(try socks5.readSOCKS5Request())
        #expect(request.destination.host == .name(String(repeating: "€", count: 85)))
    }
}
