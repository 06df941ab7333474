import CalzinoAdmin
import CalzinoPolicy
@testable import CalzinoServer
import CalzinoTestSupport
import Foundation
import NIOCore
import Testing

/// Issue 13's admin listener: the metrics a scripted set of sessions leaves, open sessions during a
/// transfer, health and readiness during a drain, and the token.
@Suite(.timeLimit(.minutes(1)))
struct AdminTests {
    /// RFC 1929 as alice (or `password`), then CONNECT to 127.0.0.1:`port`; returns the socket and the reply.
    static func login(proxyPort: Int, password: String = "pw") throws -> (RawSocket, UInt8?) {
        let socket = try RawSocket(port: proxyPort)
        try socket.send([5, 1, 2])
        _ = try socket.receive(exactly: 2)
        try socket.send([1, 5] + Array("alice".utf8) + [UInt8(password.utf8.count)] + Array(password.utf8))
        let status = try socket.receive(exactly: 2)
        return (socket, status == [1, 0] ? 0 : nil)
    }

    static func connect(_ socket: RawSocket, port: Int) throws -> UInt8 {
        try socket.send([5, 1, 0, 1, 127, 0, 0, 1, UInt8(port >> 8), UInt8(port & 0xFF)])
        return try socket.receive(exactly: 10)[1]
    }

    @Test func theMetricsCountWhatTheSessionsDid() async throws {
        let target = try await TestTarget.start(.echo)
        let echo = try await UDPEchoTarget.start()
        let hash = try TestHashes.quick("pw")
        let harness = try await AdminHarness.start {
            $0.users = UserStore(users: ["alice": hash])
            $0.rules = AccessRules(rules: [AccessRule(name: "no-81", action: .deny, destinationPorts: [PortRange(parsing: "81")!])])
        }
        let port = harness.socksPort, targetPort = target.port, echoPort = echo.port
        // The sessions run on a thread of their own; what they saw is checked here, on the test's task.
        let (served, deniedReply, wrongStatus, datagram) = try await onThread { () -> (Int, UInt8, UInt8?, UInt8?) in
            let served = try (0..<3).filter { _ in
                let (socket, _) = try Self.login(proxyPort: port)
                defer { socket.close() }
                guard try Self.connect(socket, port: targetPort) == 0 else { return false }
                try socket.send([UInt8](repeating: 1, count: 100))
                return try socket.receive(exactly: 100).count == 100
            }.count
            let (denied, _) = try Self.login(proxyPort: port)
            let deniedReply = try Self.connect(denied, port: 81)
            denied.close()
            let (wrong, status) = try Self.login(proxyPort: port, password: "nope")
            wrong.close()
            // A UDP association whose one datagram goes to the denied port.
            let client = try UDPSocket(timeoutMilliseconds: 300)
            let (control, _) = try Self.login(proxyPort: port)
            try control.send([5, 3, 0, 1, 127, 0, 0, 1, UInt8(client.port >> 8), UInt8(client.port & 0xFF)])
            let reply = try control.receive(exactly: 10)
            let relayPort = Int(reply[8]) << 8 | Int(reply[9])
            try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: 81) + [1], to: "127.0.0.1", port: relayPort)
            try client.send(UDPWire.header(ipv4: [127, 0, 0, 1], port: echoPort) + [2], to: "127.0.0.1", port: relayPort)
            let datagram = client.receive()?.last
            control.close()
            return (served, deniedReply, status, datagram)
        }
        #expect(served == 3)
        #expect(deniedReply == 2)
        #expect(wrongStatus == nil)
        #expect(datagram == 2)
        // Every session has ended (and been counted) once no connection is open.
        for _ in 0..<200 where harness.server.openSessions > 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let adminPort = harness.adminPort
        let response = try await onThread { try HTTPGet.get(port: adminPort, path: "/metrics") }
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try PrometheusText(response.body)
        // The labels are the access line's values.
        #expect(metrics.value("calzino_sessions_total", ["version": "5", "command": "connect", "reply": "0x00"]) == 3)
        #expect(metrics.value("calzino_sessions_total", ["reply": "0x02"]) == 1)
        #expect(metrics.value("calzino_sessions_total", ["command": "udp-associate", "reply": "0x00"]) == 1, "\(metrics.samples.filter { $0.name == "calzino_sessions_total" })")
        #expect(metrics.value("calzino_sessions_total", ["reply": "auth-0x1"]) == 1, "the failed login")
        #expect(metrics.value("calzino_bytes_total", ["direction": "up"]) == 300 + 1)
        #expect(metrics.value("calzino_bytes_total", ["direction": "down"]) == 300 + 1)
        #expect(metrics.value("calzino_rule_denials_total", ["rule": "no-81"]) == 1)
        #expect(metrics.value("calzino_auth_failures_total") == 1)
        #expect(metrics.value("calzino_udp_datagrams_total", ["direction": "up"]) == 1)
        #expect(metrics.value("calzino_udp_dropped_total", ["reason": "denied"]) == 1)
        #expect(metrics.value("calzino_connect_duration_seconds_count") == 3, "three dials; the denied one never dialed")
        #expect(metrics.value("calzino_handshake_duration_seconds_count") == 6, "every session got a reply, the failed login its status")
        #expect(metrics.value("calzino_session_duration_seconds_count") == 6)
        #expect(metrics.value("calzino_sessions_open") == 0)
        #expect(metrics.value("calzino_open_descriptors") > 0)
        for family in ["calzino_limit_refusals_total", "calzino_connections_refused_total", "calzino_dns_duration_seconds_count"] {
            #expect(metrics.has(family), "\(family) is exported")
        }
        #expect(metrics.value("calzino_limit_refusals_total") == 0 && metrics.value("calzino_connections_refused_total") == 0)
        #expect(metrics.types["calzino_session_duration_seconds"] == "histogram")
        await harness.stop()
        await target.stop()
        await echo.stop()
    }

    @Test func sessionsShowAnOpenTransfer() async throws {
        let target = try await TestTarget.start(.echo)
        let harness = try await AdminHarness.start()
        let port = harness.socksPort, targetPort = target.port, adminPort = harness.adminPort
        let (tunnel, sessions) = try await onThread { () -> (RawSocket, [CalzinoSessionSnapshot]) in
            let tunnel = try Wire.openTunnel(proxyPort: port, targetPort: targetPort, payload: [UInt8](repeating: 7, count: 5000))
            _ = try tunnel.receive(exactly: 5000)
            let response = try HTTPGet.get(port: adminPort, path: "/sessions")
            return (tunnel, try JSONDecoder().decode([CalzinoSessionSnapshot].self, from: Data(response.body.utf8)))
        }
        #expect(sessions.count == 1)
        let session = try #require(sessions.first)
        #expect(session.command == "connect" && session.version == "5")
        #expect(session.destination == "127.0.0.1:\(targetPort)")
        #expect(session.bytesUp == 5000 && session.bytesDown == 5000, "\(session)")
        #expect(session.client.hasPrefix("127.0.0.1:"))
        tunnel.close()
        await harness.stop()
        await target.stop()
    }

    @Test func readinessDropsWhileDraining() async throws {
        let target = try await TestTarget.start(.echo)
        let harness = try await AdminHarness.start { $0.timeouts.drain = .seconds(3) }
        let port = harness.socksPort, targetPort = target.port, adminPort = harness.adminPort
        let before = try await onThread { try HTTPGet.get(port: adminPort, path: "/readyz").status }
        #expect(before == 200)
        let tunnel = try await onThread { try Wire.openTunnel(proxyPort: port, targetPort: targetPort) }
        let draining = Task { await harness.server.shutdown() }
        for _ in 0..<100 where !harness.server.isDraining {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let (ready, healthy) = try await onThread {
            (try HTTPGet.get(port: adminPort, path: "/readyz").status, try HTTPGet.get(port: adminPort, path: "/healthz").status)
        }
        #expect(ready == 503, "not ready while draining")
        #expect(healthy == 200, "alive while draining")
        tunnel.close()
        await draining.value
        await harness.admin.stop()
        await target.stop()
    }

    @Test func aTokenGuardsEveryRouteButThePage() async throws {
        let harness = try await AdminHarness.start(token: "s3cret")
        let adminPort = harness.adminPort
        let (without, wrong, with, page) = try await onThread {
            (try HTTPGet.get(port: adminPort, path: "/metrics"),
             try HTTPGet.get(port: adminPort, path: "/sessions", token: "guess"),
             try HTTPGet.get(port: adminPort, path: "/sessions", token: "s3cret"),
             try HTTPGet.get(port: adminPort, path: "/"))
        }
        #expect(without.status == 401 && without.headers["www-authenticate"] == "Bearer")
        #expect(wrong.status == 401)
        #expect(with.status == 200 && with.body == "[]")
        #expect(page.status == 200 && page.body.contains("<title>Calzino</title>"))
        await harness.stop()
        #expect(throws: AdminConfigurationError.self) {
            try AdminConfiguration(address: try SocketAddress(ipAddress: "0.0.0.0", port: 9090)).validate()
        }
        #expect(throws: Never.self) {
            try AdminConfiguration(address: try SocketAddress(ipAddress: "0.0.0.0", port: 9090), token: "t").validate()
        }
    }

    /// Review findings: without a token only a loopback Host is answered (DNS rebinding); the scheme is
    /// case-insensitive; `/sessions?limit=` caps the list; a client-chosen command is `unknown` in labels.
    @Test func hostSchemeLimitAndCommandLabels() async throws {
        let target = try await TestTarget.start(.echo)
        let harness = try await AdminHarness.start()
        let port = harness.socksPort, adminPort = harness.adminPort, targetPort = target.port
        let (rebound, local, limited, metrics) = try await onThread { () -> (Int, Int, String, String) in
            let tunnels = try (0..<2).map { _ in try Wire.openTunnel(proxyPort: port, targetPort: targetPort) }
            let odd = try RawSocket(port: port)
            try odd.send([5, 1, 0, 5, 9, 0, 1, 127, 0, 0, 1, 0, 80])  // command 9
            _ = try odd.receive(exactly: 2 + 10)
            odd.close()
            func get(_ path: String, host: String) throws -> (Int, String) {
                let socket = try RawSocket(port: adminPort, timeoutSeconds: 10)
                defer { socket.close() }
                try socket.send(Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8))
                let text = String(decoding: try socket.receiveUntilEOF(), as: UTF8.self)
                let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
                return (status, text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? "")
            }
            let rebound = try get("/sessions", host: "attacker.example:\(adminPort)").0
            let local = try get("/healthz", host: "localhost:\(adminPort)").0
            let limited = try get("/sessions?limit=1", host: "127.0.0.1").1
            usleep(100_000)
            let metrics = try get("/metrics", host: "[::1]:\(adminPort)").1
            tunnels.forEach { $0.close() }
            return (rebound, local, limited, metrics)
        }
        #expect(rebound == 403)
        #expect(local == 200)
        let sessions = try JSONDecoder().decode([CalzinoSessionSnapshot].self, from: Data(limited.utf8))
        #expect(sessions.count == 1, "\(sessions)")
        let parsed = try PrometheusText(metrics)
        #expect(parsed.value("calzino_sessions_total", ["command": "unknown"]) == 1, "\(parsed.samples.filter { $0.name == "calzino_sessions_total" })")
        #expect(!metrics.contains("cmd-0x"))
        #expect(AdminRoutesAccess.authorized("bearer s3cret", token: "s3cret") && AdminRoutesAccess.authorized("BEARER s3cret", token: "s3cret"))
        #expect(!AdminRoutesAccess.authorized("Bearer s3cre", token: "s3cret"))
        await harness.stop()
        await target.stop()
    }
}
