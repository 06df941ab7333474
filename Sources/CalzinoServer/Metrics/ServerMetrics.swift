import CoreMetrics
import NIOCore
import SOCKSCore

/// The server's metrics (issue 13), through swift-metrics: the embedder's factory (the executable's is
/// swift-prometheus, served on the admin listener) decides where they go. Without a factory there is no
/// `ServerMetrics` at all, and so no cost on any path.
///
/// Label values are bounded: versions, commands, reply codes, rule names from the file, limit names, drop
/// reasons; never a client address, a user or a destination. Bytes are counted per read burst by the relay
/// (one atomic add each way per burst); everything else once per session, at its end, from its record.
final class ServerMetrics: Sendable {
    let factory: any MetricsFactory
    let bytesUp: any CounterHandler
    let bytesDown: any CounterHandler
    let handshakeDuration: any TimerHandler
    let connectDuration: any TimerHandler
    let dnsDuration: any TimerHandler
    let sessionDuration: any TimerHandler
    let authFailures: any CounterHandler
    let udpUp: any CounterHandler
    let udpDown: any CounterHandler

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.bytesUp = factory.makeCounter(label: "calzino_bytes_total", dimensions: [("direction", "up")])
        self.bytesDown = factory.makeCounter(label: "calzino_bytes_total", dimensions: [("direction", "down")])
        self.handshakeDuration = factory.makeTimer(label: "calzino_handshake_duration_seconds", dimensions: [])
        self.connectDuration = factory.makeTimer(label: "calzino_connect_duration_seconds", dimensions: [])
        self.dnsDuration = factory.makeTimer(label: "calzino_dns_duration_seconds", dimensions: [])
        self.sessionDuration = factory.makeTimer(label: "calzino_session_duration_seconds", dimensions: [])
        self.authFailures = factory.makeCounter(label: "calzino_auth_failures_total", dimensions: [])
        self.udpUp = factory.makeCounter(label: "calzino_udp_datagrams_total", dimensions: [("direction", "up")])
        self.udpDown = factory.makeCounter(label: "calzino_udp_datagrams_total", dimensions: [("direction", "down")])
        // The families whose labels are a fixed set are made once, so that counting them takes no registry
        // look-up (and every family shows from the start).
        var udpDropped: [UDPDropReason: any CounterHandler] = [:]
        for reason in UDPDropReason.allCases {
            udpDropped[reason] = factory.makeCounter(label: "calzino_udp_dropped_total", dimensions: [("reason", reason.rawValue)])
        }
        self.udpDropped = udpDropped
        var limitRefusals: [String: any CounterHandler] = [:]
        for limit in Self.limits {
            limitRefusals[limit] = factory.makeCounter(label: "calzino_limit_refusals_total", dimensions: [("limit", limit)])
        }
        self.limitRefusals = limitRefusals
        var refused: [ConnectionRefusal: any CounterHandler] = [:]
        for reason in ConnectionRefusal.allCases {
            refused[reason] = factory.makeCounter(label: "calzino_connections_refused_total", dimensions: [("reason", reason.rawValue)])
        }
        self.refused = refused
    }

    private let udpDropped: [UDPDropReason: any CounterHandler]
    private let limitRefusals: [String: any CounterHandler]
    private let refused: [ConnectionRefusal: any CounterHandler]
    static let limits = ["max-sessions", "sessions-per-client", "sessions-per-user", "password-checks"]

    /// Why a connection was closed before a byte was read.
    enum ConnectionRefusal: String, CaseIterable, Sendable {
        /// `max-connections` or the descriptors sessions may hold.
        case capacity
        /// `handshakes-per-client-per-second`.
        case rate
    }

    func connectionRefused(_ reason: ConnectionRefusal) {
        self.refused[reason]?.increment(by: 1)
    }

    /// The command as a label: the three of RFC 1928, or `unknown` (never the client's byte, which would
    /// let a client make up series).
    static func label(_ command: SOCKSClientRequest.Command) -> String {
        switch command {
        case .connect: return "connect"
        case .bind: return "bind"
        case .udpAssociate: return "udp-associate"
        case .unknown: return "unknown"
        }
    }

    /// Counts a session that ended, from its record.
    func sessionEnded(_ record: SessionRecord, duration: TimeAmount) {
        let version = record.request.map { "\($0.version)" } ?? "-"
        let command = record.request.map { Self.label($0.command) } ?? "-"
        let reply = record.reply?.codeDescription ?? "-"
        self.factory.makeCounter(
            label: "calzino_sessions_total",
            dimensions: [("version", version), ("command", command), ("reply", reply)]
        ).increment(by: 1)
        self.sessionDuration.recordNanoseconds(max(duration.nanoseconds, 0))
        switch record.failure {
        case .authenticationFailed?:
            self.authFailures.increment(by: 1)
        case .limitReached(let limit)?:
            // "sessions-per-client 2": the limit's name is the label, never its value or who hit it.
            let name = limit.split(separator: " ").first.map(String.init) ?? limit
            (self.limitRefusals[name] ?? self.limitRefusals["max-sessions"])?.increment(by: 1)
        case let failure?:
            if let reason = failure.denial {
                self.factory.makeCounter(label: "calzino_rule_denials_total", dimensions: [("rule", reason.description)]).increment(by: 1)
            }
        case nil:
            break
        }
        if let udp = record.udp {
            // A relay counts its bytes as they move; an association's are counted here, at its end.
            self.bytesUp.increment(by: Int64(udp.bytesUp))
            self.bytesDown.increment(by: Int64(udp.bytesDown))
            self.udpUp.increment(by: Int64(udp.datagramsUp))
            self.udpDown.increment(by: Int64(udp.datagramsDown))
            for reason in UDPDropReason.allCases where udp[reason] > 0 {
                self.udpDropped[reason]?.increment(by: Int64(udp[reason]))
            }
        }
    }
}
