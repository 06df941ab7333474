import CalzinoAdmin
import CalzinoPolicy
@testable import CalzinoServer
import CalzinoTestSupport
import Logging
import NIOCore
import Prometheus

/// A server with metrics and its admin listener, both on loopback with free ports.
struct AdminHarness {
    let server: CalzinoServer
    let admin: AdminServer
    let socksPort: Int
    let adminPort: Int

    static func start(token: String? = nil, _ configure: (inout CalzinoServerConfiguration) -> Void = { _ in }) async throws -> AdminHarness {
        var configuration = CalzinoServerConfiguration(
            listeners: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)],
            timeouts: Timeouts(handshake: .seconds(5), connect: .seconds(5), drain: .seconds(2))
        )
        let registry = PrometheusCollectorRegistry()
        configuration.metricsFactory = AdminMetrics.factory(registry: registry)
        configure(&configuration)
        var logger = Logger(label: "calzino")
        logger.logLevel = .warning
        let server = CalzinoServer(configuration: configuration, logger: logger)
        let socksPort = try await server.start().first?.port ?? 0
        let admin = AdminServer(
            configuration: AdminConfiguration(address: try SocketAddress(ipAddress: "127.0.0.1", port: 0), token: token),
            server: server,
            registry: registry,
            logger: logger
        )
        let adminPort = try await admin.start().port ?? 0
        return AdminHarness(server: server, admin: admin, socksPort: socksPort, adminPort: adminPort)
    }

    func stop() async {
        await self.server.shutdown()
        await self.admin.stop()
    }
}

/// A plain HTTP/1.1 GET on a raw socket: status, headers (lower-cased names) and body.
enum HTTPGet {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func get(port: Int, path: String, token: String? = nil) throws -> Response {
        let socket = try RawSocket(port: port, timeoutSeconds: 10)
        defer { socket.close() }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        try socket.send(Array((request + "\r\n").utf8))
        let text = String(decoding: try socket.receiveUntilEOF(), as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw RawSocket.Failure(description: "no header end in \(text)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// The Prometheus text format, read back: every sample by name and labels.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]
    let types: [String: String]

    init(_ text: String) throws {
        var samples: [Sample] = []
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw RawSocket.Failure(description: "not a sample: \(line)")
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<brace])
                let inner = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                for pair in inner.split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        self.samples = samples
        self.types = types
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        self.samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    func has(_ name: String) -> Bool {
        self.samples.contains { $0.name == name }
    }
}
