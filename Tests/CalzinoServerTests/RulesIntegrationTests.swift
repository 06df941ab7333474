import CalzinoPolicy
import CalzinoConfiguration
@testable import CalzinoServer
import NIOCore
import NIOPosix
import CalzinoTestSupport
import Testing

/// Rules through the real server on loopback: CONNECT by port and name, DNS rebinding, BIND peers, UDP
/// datagrams, SOCKS4 on a listener with users, and the rule named in the access log.
@Suite(.timeLimit(.minutes(1)))
struct RulesIntegrationTests {
    static func rules(_ yaml: String) throws -> AccessRules {
        try ServeOptions.parse(yaml, file: "rules.yaml").makeConfiguration().rules
    }

    @Test func firstMatchDecidesAndTheLogNamesTheRule() async throws {
        let allowed = try await TestTarget.start(.echo)
        let denied = try await TestTarget.start(.echo)
        let rules = try Self.rules("""
            rules:
              - {name: no-second, action: deny, to-ports: [\(denied.port)]}
              - {name: echo, action: allow, to-ports: [\(allowed.port)]}
            default-action: deny
            """)
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port, allowedPort = allowed.port, deniedPort = denied.port
        let (echoed, socks5Denied, socks4Denied) = try await onThread { () -> ([UInt8], UInt8, UInt8) in
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: allowedPort, payload: [1, 2, 3])
            let echoed = try tunnel.receive(exactly: 3)
            let second = try RawSocket(port: port)
            try second.send(Wire.socks5Connect(port: deniedPort))
            let socks5 = try Wire.readSOCKS5Reply(second).reply[1]
            let third = try RawSocket(port: port)
            try third.send(Wire.socks4Connect(port: deniedPort))
            let socks4 = try third.receive(exactly: 8)[1]
            tunnel.close()
            return (echoed, socks5, socks4)
        }
        #expect(echoed == [1, 2, 3])
        #expect(socks5Denied == 0x02)
        #expect(socks4Denied == 0x5B)
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 3)
        #expect(lines.filter { $0.contains("rule=no-second") && $0.contains("error=\"denied by no-second\"") }.count == 2, "\(lines)")
        #expect(lines.contains { $0.contains("rule=echo") && $0.contains("reply=0x00") }, "\(lines)")
        await allowed.stop()
        await denied.stop()
    }

    /// A name allowed by a name rule is checked again once resolved: an address a rule denies, or one in a
    /// protected class that no rule names, is refused (no DNS rebinding).
    @Test func aNameIsCheckedAgainAfterResolution() async throws {
        let target = try await TestTarget.start(.echo)
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        let dialer = DirectDialer(resolver: { StaticResolver(eventLoop: $0, table: ["rebind.test": [loopback], "named.test": [loopback]]) })
        let rules = try Self.rules("""
            rules:
              - {name: named, action: allow, to-names: [named.test], to-addresses: [loopback]}
              - {name: names, action: allow, to-names: ["*.test"]}
            """)
        let proxy = try await TestServer.start {
            $0.rules = rules
            $0.dialer = dialer
            $0.protectedClasses = DestinationPolicy.protectedClasses
        }
        let port = proxy.port, targetPort = target.port
        let (rebound, named) = try await onThread { () -> (UInt8, [UInt8]) in
            let first = try RawSocket(port: port)
            try first.send(Wire.socks5ConnectName("rebind.test", port: targetPort))
            let rebound = try Wire.readSOCKS5Reply(first).reply[1]
            let second = try RawSocket(port: port)
            try second.send(Wire.socks5ConnectName("named.test", port: targetPort) + [9])
            _ = try Wire.readSOCKS5Reply(second)
            return (rebound, try second.receive(exactly: 1))
        }
        #expect(rebound == 0x02, "rebind.test resolves to loopback, which no rule for it names")
        #expect(named == [9], "a rule naming the address class lets it through")
        await proxy.stop()
        let lines = await proxy.accessLines(atLeast: 2)
        #expect(lines.contains { $0.contains("requested=rebind.test") && $0.contains("rule=protected:loopback") }, "\(lines)")

        // Without protected classes, a deny rule on the address still catches the name.
        let denyLoopback = try Self.rules("rules:\n  - {name: no-loopback, action: deny, to-addresses: [127.0.0.0/8]}\n")
        let plain = try await TestServer.start {
            $0.rules = denyLoopback
            $0.dialer = dialer
        }
        let plainPort = plain.port
        let code = try await onThread { () -> UInt8 in
            let socket = try RawSocket(port: plainPort)
            try socket.send(Wire.socks5ConnectName("rebind.test", port: targetPort))
            return try Wire.readSOCKS5Reply(socket).reply[1]
        }
        #expect(code == 0x02)
        await plain.stop()
        #expect(await plain.accessLines(atLeast: 1).contains { $0.contains("rule=no-loopback") })
        await target.stop()
    }

    /// BIND to "any peer" is allowed at request time; the peer that connects is checked by the rules.
    @Test func bindPeersGoThroughTheRules() async throws {
        let rules = try Self.rules("rules:\n  - {name: no-local-peers, action: deny, commands: [bind], to-addresses: [127.0.0.0/8]}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port
        let (first, second) = try await onThread { () -> ([UInt8], [UInt8]) in
            let client = try RawSocket(port: port)
            try client.send([5, 1, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0])
            _ = try client.receive(exactly: 2)
            let first = try client.receive(exactly: 10)
            let peer = try RawSocket(port: BindIntegrationTests.port(first[8...]))
            defer { peer.close() }
            return (first, try client.receive(exactly: 10))
        }
        #expect(first[1] == 0x00, "the listener opens")
        #expect(second[1] == 0x02, "the peer from 127.0.0.1 is denied")
        await proxy.stop()
        #expect(await proxy.accessLines(atLeast: 1).contains { $0.contains("rule=no-local-peers") })
    }

    @Test func udpDatagramsGoThroughTheRules() async throws {
        let open = try await UDPEchoTarget.start()
        let closed = try await UDPEchoTarget.start()
        let rules = try Self.rules("rules:\n  - {name: no-closed, action: deny, commands: [udp], to-ports: [\(closed.port)]}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port, openPort = open.port, closedPort = closed.port
        let received = try await onThread { () -> [UInt8]? in
            let socket = try UDPSocket(timeoutMilliseconds: 3000)
            let (control, _, relayPort) = try UDPWire.associate(proxyPort: port, declaredPort: socket.port)
            defer { control.close() }
            try socket.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: closedPort) + [1], to: "127.0.0.1", port: relayPort)
            try socket.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: openPort) + [2], to: "127.0.0.1", port: relayPort)
            return socket.receive()
        }
        // The denied datagram went first; the one that comes back is the allowed one's echo.
        #expect(received?.last == 2, "the allowed datagram is relayed, the denied one dropped")
        await proxy.stop()
        #expect(await proxy.accessLines(atLeast: 1).contains { $0.contains("denied:1") })
        await open.stop()
        await closed.stop()
    }

    /// A rule's deadlines replace the global ones for the sessions it allows: here an idle timeout of
    /// 600 ms against the global hour.
    @Test func perRuleDeadlinesOverrideTheGlobalOnes() async throws {
        let quick = try await TestTarget.start(.echo)
        let other = try await TestTarget.start(.echo)
        let rules = try Self.rules("rules:\n  - {name: quick, action: allow, to-ports: [\(quick.port)], timeouts: {idle: 600ms}}\n")
        let proxy = try await TestServer.start { $0.rules = rules }
        let port = proxy.port, quickPort = quick.port, otherPort = other.port
        let (closedQuickly, otherOpen) = try await onThread { () -> (Bool, Bool) in
            let first = try Wire.openTunnel(proxyPort: port, targetPort: quickPort)
            let second = try Wire.openTunnel(proxyPort: port, targetPort: otherPort)
            let start = NIODeadline.now()
            let closed = first.waitForFIN()
            let took = NIODeadline.now() - start
            try second.send([1])
            let stillOpen = try second.receive(exactly: 1) == [1]
            first.close()
            second.close()
            // 600 ms against the global hour: 5 s leaves room for a loaded machine.
            return (closed && took < .seconds(5), stillOpen)
        }
        #expect(closedQuickly, "the rule's idle timeout closed its session")
        #expect(otherOpen, "a session under the global timeout is still open")
        await proxy.stop()
        #expect(await proxy.accessLines(atLeast: 1).contains { $0.contains("rule=quick") && $0.contains("idle timeout") })
        await quick.stop()
        await other.stop()
    }

    /// SOCKS4 has no password: a listener with users refuses it unless a rule names the version.
    @Test func socks4OnAListenerWithUsersNeedsARule() async throws {
        let target = try await TestTarget.start(.echo)
        let users = try UsersFile.parse("alice:\(try PasswordHash.make(password: "secret").encoded)\n", file: "users")
        let admitting = try Self.rules("rules:\n  - {name: old-clients, action: allow, versions: [socks4], clients: [127.0.0.1]}\n")
        let strict = try await TestServer.start { $0.users = users }
        let admitted = try await TestServer.start {
            $0.users = users
            $0.rules = admitting
        }
        let strictPort = strict.port, admittedPort = admitted.port, targetPort = target.port
        let (refused, accepted) = try await onThread { () -> (UInt8, [UInt8]) in
            let first = try RawSocket(port: strictPort)
            try first.send(Wire.socks4Connect(port: targetPort))
            let refused = try first.receive(exactly: 8)[1]
            let second = try RawSocket(port: admittedPort)
            try second.send(Wire.socks4Connect(port: targetPort) + [7])
            let reply = try second.receive(exactly: 8)
            return (refused, [reply[1]] + (try second.receive(exactly: 1)))
        }
        #expect(refused == 0x5B)
        #expect(accepted == [0x5A, 7])
        await strict.stop()
        await admitted.stop()
        #expect(await strict.accessLines(atLeast: 1).contains { $0.contains("rule=socks4-needs-rule") })
        await target.stop()
    }
}
