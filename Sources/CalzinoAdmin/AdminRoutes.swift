import CalzinoServer
import Foundation
import NIOHTTP1
import Prometheus

/// The admin listener's routes: `/metrics` (Prometheus text), `/sessions` (JSON), `/healthz`, `/readyz`,
/// and `/`, the status page. Read-only: every route is a GET; with a token, every route but the page needs
/// it.
struct AdminRoutes: Sendable {
    let server: CalzinoServer
    let registry: PrometheusCollectorRegistry
    let token: String?
    private let sessionsOpen: Gauge
    private let openDescriptors: Gauge
    private let uptime: Gauge
    private let started = ContinuousClock.now

    init(server: CalzinoServer, registry: PrometheusCollectorRegistry, token: String?) {
        self.server = server
        self.registry = registry
        self.token = token
        self.sessionsOpen = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "calzino", metricName: "sessions", unitName: "open", helpText: "Client connections open now.")
        )
        self.openDescriptors = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "calzino", metricName: "open", unitName: "descriptors", helpText: "File descriptors the process holds.")
        )
        self.uptime = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "calzino", metricName: "uptime", unitName: "seconds", helpText: "Seconds since the admin listener started; the status page's clock for rates.")
        )
    }

    func respond(method: HTTPMethod, uri: String, authorization: String?, host: String? = nil) async -> AdminResponse {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        // Without a token, only a request addressed to a loopback name reaches the routes: a web page whose
        // name an attacker rebinds to 127.0.0.1 (DNS rebinding) sends its own name as Host.
        if self.token == nil, let host, !Self.isLoopbackHost(host) {
            return .text(.forbidden, "the admin listener answers only requests to localhost or a loopback address\n")
        }
        // The page holds no data (its script asks the other routes, with the token): served to anyone who
        // may connect, so that a browser can open it.
        if path == "/", method == .GET || method == .HEAD {
            var page = AdminResponse(status: .ok, contentType: "text/html; charset=utf-8", body: Array(StatusPage.html.utf8))
            page.extraHeaders = [
                ("Content-Security-Policy", "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
            ]
            return page
        }
        if let token = self.token, !Self.authorized(authorization, token: token) {
            var response = AdminResponse.text(.unauthorized, "a bearer token is required\n")
            response.extraHeaders = [("WWW-Authenticate", "Bearer")]
            return response
        }
        guard method == .GET || method == .HEAD else {
            var response = AdminResponse.text(.methodNotAllowed, "only GET\n")
            response.extraHeaders = [("Allow", "GET, HEAD")]
            return response
        }
        switch path {
        case "/metrics":
            self.sessionsOpen.set(Int64(self.server.openSessions))
            self.openDescriptors.set(Int64(Self.countOpenDescriptors()))
            let elapsed = ContinuousClock.now - self.started
            self.uptime.set(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            return AdminResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: self.registry.emitToBuffer())
        case "/sessions":
            let snapshots = await self.server.sessionSnapshots(limit: Self.sessionLimit(uri))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(snapshots)).map(Array.init) ?? Array("[]".utf8)
            return AdminResponse(status: .ok, contentType: "application/json", body: body)
        case "/healthz":
            return .text(.ok, "ok\n")
        case "/readyz":
            return self.server.isDraining ? .text(.serviceUnavailable, "draining\n") : .text(.ok, "ready\n")
        default:
            return .text(.notFound, "not found\n")
        }
    }

    /// `Bearer TOKEN` (the scheme in any case, RFC 7235), compared without an early exit.
    static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.utf8.dropFirst(7))
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<max(given.count, expected.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < expected.count ? expected[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }

    /// `/sessions?limit=N`: at most N sessions (the oldest), 1 to 100,000; 1,000 without it.
    static func sessionLimit(_ uri: String) -> Int {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return 1000 }
        for pair in query.split(separator: "&") where pair.hasPrefix("limit=") {
            if let value = Int(pair.dropFirst("limit=".count)) {
                return min(max(value, 1), 100_000)
            }
        }
        return 1000
    }

    /// `localhost`, an IPv4 loopback address or `[::1]`, with or without a port.
    static func isLoopbackHost(_ host: String) -> Bool {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            return name.hasPrefix("[::1]")
        }
        if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        if name == "localhost" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    static func countOpenDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }
}

/// The token check, for tests.
package enum AdminRoutesAccess {
    package static func authorized(_ header: String?, token: String) -> Bool {
        AdminRoutes.authorized(header, token: token)
    }
}
