import CalzinoPolicy
import NIOCore
import SOCKSCore
import Testing

@Suite struct RuleEvaluationTests {
    private static func request(
        listener: String = "lan",
        client: String = "192.168.1.10",
        user: String? = nil,
        version: SOCKSClientRequest.Version = .socks5,
        command: AccessRequest.Command = .connect,
        name: String? = nil,
        address: String? = "93.184.215.5",  // global: the documentation blocks are `reserved`
        port: UInt16? = 443
    ) -> AccessRequest {
        AccessRequest(
            listener: listener,
            client: SOCKSEndpoint((try? SocketAddress(ipAddress: client, port: 0))!).host,
            user: user,
            version: version,
            command: command,
            destinationName: name,
            destinationAddress: address.flatMap { try? SocketAddress(ipAddress: $0, port: 0) }.map { SOCKSEndpoint($0).host },
            destinationPort: port
        )
    }

    private static func decided(_ verdict: AccessRules.Verdict) -> String {
        switch verdict {
        case .allowed(let rule): return "allow:\(rule?.name ?? "default")"
        case .denied(let reason): return "deny:\(reason)"
        case .undecided: return "undecided"
        }
    }

    private func verdict(_ rules: [AccessRule], _ request: AccessRequest, default action: AccessRule.Action = .deny, protected: Set<AddressClass> = []) -> String {
        Self.decided(AccessRules(rules: rules, defaultAction: action).evaluate(request, protected: protected))
    }

    @Test func eachMatcherMatchesAndMisses() {
        let cases: [(AccessRule, AccessRequest, AccessRequest)] = [
            (AccessRule(name: "r", action: .allow, listeners: ["lan"]), Self.request(), Self.request(listener: "wan")),
            (AccessRule(name: "r", action: .allow, clients: [.range(AddressRange(parsing: "192.168.0.0/16")!)]), Self.request(), Self.request(client: "10.0.0.1")),
            (AccessRule(name: "r", action: .allow, users: ["alice"]), Self.request(user: "alice"), Self.request(user: nil)),
            (AccessRule(name: "r", action: .allow, versions: [.socks4a]), Self.request(version: .socks4a), Self.request(version: .socks4)),
            (AccessRule(name: "r", action: .allow, commands: [.bind]), Self.request(command: .bind), Self.request(command: .connect)),
            (AccessRule(name: "r", action: .allow, destinationNames: [NamePattern(parsing: "*.example.com")!]), Self.request(name: "www.example.com", address: nil), Self.request(name: "example.org", address: nil)),
            (AccessRule(name: "r", action: .allow, destinationAddresses: [.set(.global)]), Self.request(), Self.request(address: "10.1.1.1")),
            (AccessRule(name: "r", action: .allow, destinationPorts: [PortRange(parsing: "400-500")!]), Self.request(), Self.request(port: 80)),
        ]
        for (rule, matching, missing) in cases {
            #expect(self.verdict([rule], matching) == "allow:r")
            #expect(self.verdict([rule], missing) == "deny:default")
        }
    }

    @Test func firstMatchDecides() {
        let rules = [
            AccessRule(name: "no-ssh", action: .deny, destinationPorts: [PortRange(parsing: "22")!]),
            AccessRule(name: "lan", action: .allow, clients: [.range(AddressRange(parsing: "192.168.0.0/16")!)]),
            AccessRule(name: "all", action: .deny),
        ]
        #expect(self.verdict(rules, Self.request(port: 22)) == "deny:no-ssh")
        #expect(self.verdict(rules, Self.request(port: 443)) == "allow:lan")
        #expect(self.verdict(rules, Self.request(client: "10.0.0.1")) == "deny:all")
    }

    @Test func defaultAction() {
        #expect(self.verdict([], Self.request(), default: .allow) == "allow:default")
        #expect(self.verdict([], Self.request(), default: .deny) == "deny:default")
    }

    @Test func everyMatcherOfARuleMustMatch() {
        let rule = AccessRule(name: "r", action: .allow, users: ["alice"], destinationPorts: [PortRange(parsing: "443")!])
        #expect(self.verdict([rule], Self.request(user: "alice")) == "allow:r")
        #expect(self.verdict([rule], Self.request(user: "alice", port: 80)) == "deny:default")
        #expect(self.verdict([rule], Self.request(user: "bob")) == "deny:default")
    }

    @Test func aNameWaitsForItsAddressOnlyWhenARuleAheadLooksAtAddresses() {
        let byAddress = [AccessRule(name: "nets", action: .deny, destinationAddresses: [.set(.private)]), AccessRule(name: "rest", action: .allow)]
        #expect(self.verdict(byAddress, Self.request(name: "db.internal", address: nil)) == "undecided")
        #expect(self.verdict(byAddress, Self.request(name: "db.internal", address: "10.0.0.5")) == "deny:nets")
        #expect(self.verdict(byAddress, Self.request(name: "db.internal", address: "93.184.215.1")) == "allow:rest")
        let byName = [AccessRule(name: "bad", action: .deny, destinationNames: [NamePattern(parsing: "*.bad.example")!]), AccessRule(name: "rest", action: .allow)]
        #expect(self.verdict(byName, Self.request(name: "x.bad.example", address: nil)) == "deny:bad")
        #expect(self.verdict(byName, Self.request(name: "good.example", address: nil)) == "allow:rest")
        // An address the client gave has no name: name rules do not match it.
        #expect(self.verdict(byName, Self.request(name: nil, address: "93.184.215.1")) == "allow:rest")
    }

    @Test func protectedClassesOpenOnlyToRulesThatNameThem() {
        let protected = DestinationPolicy.protectedClasses
        let byName = [AccessRule(name: "intranet", action: .allow, destinationNames: [NamePattern(parsing: "intranet.example")!])]
        // Allowed by name before resolution, but the private address it resolves to is not named: denied.
        #expect(self.verdict(byName, Self.request(name: "intranet.example", address: nil), protected: protected) == "allow:intranet")
        #expect(self.verdict(byName, Self.request(name: "intranet.example", address: "10.0.0.8"), protected: protected) == "deny:protected:private")
        let byAddress = [AccessRule(name: "nets", action: .allow, destinationAddresses: [.range(AddressRange(parsing: "10.0.0.0/24")!)])]
        #expect(self.verdict(byAddress, Self.request(address: "10.0.0.8"), protected: protected) == "allow:nets")
        #expect(self.verdict(byAddress, Self.request(address: "10.0.1.8"), protected: protected) == "deny:default")
        #expect(self.verdict([], Self.request(address: "169.254.169.254"), default: .allow, protected: protected) == "deny:protected:metadata")
        #expect(self.verdict([], Self.request(address: "127.0.0.1"), default: .allow, protected: []) == "allow:default")
    }

    @Test func aPolicyAsksTheRulesAboutEachResolvedAddress() throws {
        let rules = AccessRules(rules: [
            AccessRule(name: "web", action: .allow, destinationNames: [NamePattern(parsing: "*.example.com")!], destinationPorts: [PortRange(parsing: "443")!]),
        ], defaultAction: .deny)
        let policy = rules.destinationPolicy(for: Self.request(name: "www.example.com", address: nil), protected: DestinationPolicy.protectedClasses)
        #expect(policy.denial(of: try SocketAddress(ipAddress: "93.184.215.7", port: 443), name: "www.example.com") == nil)
        #expect(policy.denial(of: try SocketAddress(ipAddress: "192.168.0.7", port: 443), name: "www.example.com") == .protected(.private))
        #expect(policy.denial(of: try SocketAddress(ipAddress: "93.184.215.7", port: 80), name: "www.example.com") == .defaultAction)
        #expect(policy.denial(of: try SocketAddress(ipAddress: "93.184.215.7", port: 443), name: nil) == .defaultAction)
    }
}
