import SOCKSCore
import Testing

@Suite struct HostPortTextTests {
    @Test(arguments: [
        ("127.0.0.1:1080", "127.0.0.1", "1080", false),
        ("[::1]:1080", "::1", "1080", true),
        ("localhost:9", "localhost", "9", false),
        ("::1:1080", "::1", "1080", false),  // unbracketed IPv6: split at the last colon, flagged for the caller
        ("[]:1", "", "1", true),
        (":80", "", "80", false),
    ])
    func splits(text: String, host: String, port: String, bracketed: Bool) {
        let parts = HostPortText.split(text)
        #expect(parts.map { String($0.host) } == host)
        #expect(parts.map { String($0.port) } == port)
        #expect(parts?.bracketed == bracketed)
    }

    @Test func withoutAColonThereIsNoPort() {
        #expect(HostPortText.split("localhost") == nil)
    }

    @Test(arguments: [("[2001:db8::1]", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"), ("[", "["), ("[x", "[x")])
    func unbrackets(text: String, expected: String) {
        #expect(String(HostPortText.unbracketed(text)) == expected)
    }
}
