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

    func respond(method: HTTPMethod, uri: String, authorization: String?) async -> AdminResponse {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        // The page holds no data (its script asks the other routes, with the token): served to anyone who
        // may connect, so that a browser can open it.
        if path == "/", method == .GET || method == .HEAD {
            return AdminResponse(status: .ok, contentType: "text/html; charset=utf-8", body: Array(StatusPage.html.utf8))
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
            let snapshots = await self.server.sessionSnapshots()
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

    /// `Bearer TOKEN`, compared without an early exit.
    static func authorized(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<max(given.count, expected.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < expected.count ? expected[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }

    static func countOpenDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }
}
