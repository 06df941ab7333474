import CalzinoPolicy
import NIOCore
import SOCKSCore
import Testing

@Suite struct MatcherTests {
    private func host(_ text: String) throws -> SOCKSHost {
        SOCKSEndpoint(try SocketAddress(ipAddress: text, port: 0)).host
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.200.3.4", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.7", "192.168.1.7", true),
        ("192.168.1.7", "192.168.1.8", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "::1", false),
        ("fd00::/8", "fd12::1", true),
        ("fd00::/8", "fe80::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/127", "2001:db8::1", true),
        ("2001:db8::/128", "2001:db8::1", false),
        ("127.0.0.0/8", "::ffff:127.0.0.5", true),
        ("::/0", "::1", true),
    ])
    func addressRanges(range: String, address: String, contained: Bool) throws {
        let parsed = try #require(AddressRange(parsing: range))
        #expect(parsed.contains(try self.host(address)) == contained)
    }

    @Test(arguments: ["", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0/8", "example.com", "10.0.0.0/", "1.2.3.4/8/9"])
    func badAddressRanges(text: String) {
        #expect(AddressRange(parsing: text) == nil)
    }

    @Test func addressSets() throws {
        #expect(AddressMatcher(parsing: "private")?.matches(try self.host("172.16.5.5")) == true)
        #expect(AddressMatcher(parsing: "loopback")?.matches(try self.host("::1")) == true)
        #expect(AddressMatcher(parsing: "metadata")?.matches(try self.host("169.254.169.254")) == true)
        #expect(AddressMatcher(parsing: "link-local")?.matches(try self.host("169.254.1.1")) == true)
        #expect(AddressMatcher(parsing: "multicast")?.matches(try self.host("ff02::1")) == true)
        #expect(AddressMatcher(parsing: "global")?.matches(try self.host("10.0.0.1")) == false)
        #expect(AddressMatcher(parsing: "privat") == nil)
    }

    @Test(arguments: [
        ("example.com", "example.com", true),
        ("example.com", "EXAMPLE.com.", true),
        ("example.com", "www.example.com", false),
        ("*.example.com", "www.example.com", true),
        ("*.example.com", "a.b.example.com", true),
        ("*.example.com", "example.com", false),
        ("*.example.com", "badexample.com", false),
    ])
    func namePatterns(pattern: String, name: String, matches: Bool) throws {
        #expect(try #require(NamePattern(parsing: pattern)).matches(name) == matches)
    }

    /// The last five came from FuzzRules: a name with an empty label read back differently from its own
    /// description (one trailing dot is dropped per normalization).
    @Test(arguments: ["", "*", "*.", "a.*.com", "ex*ample.com", "a..b", "x..", ".a", "*..a", "0\u{FFFD}.0.."])
    func badNamePatterns(text: String) {
        #expect(NamePattern(parsing: text) == nil)
    }

    @Test func portRanges() throws {
        let range = try #require(PortRange(parsing: "8000-8999"))
        #expect(range.contains(8000) && range.contains(8999) && !range.contains(9000))
        #expect(PortRange(parsing: "443")?.contains(443) == true)
        for bad in ["", "65536", "-1", "9-8", "a", "1-", "80-90-100"] {
            #expect(PortRange(parsing: bad) == nil, "\(bad)")
        }
    }
}
