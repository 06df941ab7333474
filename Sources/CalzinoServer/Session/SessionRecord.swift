import Logging
import NIOCore
import SOCKSCore

/// What the access log says about one session. Filled in as the session goes, written once at its end.
final class SessionRecord {
    /// The server's number for the session, for the admin listener's `/sessions` and JSON logs.
    let id: UInt64
    let clientAddress: SocketAddress?
    let started: NIODeadline = .now()
    var request: SOCKSClientRequest?
    /// The authenticated user (never the password).
    var user: String?
    var connectedAddress: SocketAddress?
    var reply: SOCKSServerMessage? {
        didSet {
            if self.firstReplyAt == nil, self.reply != nil {
                let now = NIODeadline.now()
                self.firstReplyAt = now
                // At the reply, not at the session's end: a long session's handshake counts at once.
                self.metrics?.handshakeDuration.recordNanoseconds(max((now - self.started).nanoseconds, 0))
            }
        }
    }
    private let metrics: ServerMetrics?
    /// When the first reply went out: the end of the handshake, for `calzino_handshake_duration_seconds`.
    private(set) var firstReplyAt: NIODeadline?
    /// The rule that allowed or denied the request, or denied a later destination; `nil` without rules.
    var rule: DecidingRule?
    /// Why it failed, for a failure reply or a close without one: the first failure met (`recordFailure`).
    private(set) var failure: SessionFailure?
    /// UDP ASSOCIATE: what the association moved and dropped.
    var udp: UDPAssociationCounters?
    var bytesUp: Int = 0
    var bytesDown: Int = 0
    private var logged = false

    init(id: UInt64 = 0, clientAddress: SocketAddress?, metrics: ServerMetrics? = nil) {
        self.id = id
        self.clientAddress = clientAddress
        self.metrics = metrics
    }

    /// Keeps `failure` unless the session has already failed: the first cause is the one that explains the
    /// end (a deadline that answers a slow dial, not the dial error that may follow).
    /// A denial also names what denied it in `rule`, in place of the rule that admitted the request.
    func recordFailure(_ failure: SessionFailure) {
        guard self.failure == nil else { return }
        self.failure = failure
        if let reason = failure.denial {
            self.rule = .denied(reason)
        }
    }

    /// Ends the record: writes the session's one access-log line and, when the server has a
    /// `sessionEnded` handler, gives it the summary. Later calls do nothing.
    func finish(_ settings: SessionSettings) {
        guard !self.logged else { return }
        self.logged = true
        settings.metrics?.sessionEnded(self, duration: NIODeadline.now() - self.started)
        if settings.logFormat == .json {
            settings.accessLogger.info("session", metadata: self.fields)
            if let sessionEnded = settings.sessionEnded {
                sessionEnded(self.summary(line: self.line))
            }
            return
        }
        guard let sessionEnded = settings.sessionEnded else {
            // The line is built only if the log level lets it through (the message is an autoclosure).
            settings.accessLogger.info("\(self.line)")
            return
        }
        let line = self.line
        settings.accessLogger.info("\(line)")
        sessionEnded(self.summary(line: line))
    }

    private func summary(line: String) -> CalzinoSessionSummary {
        CalzinoSessionSummary(
            client: self.clientAddress,
            user: self.user,
            request: self.request,
            connected: self.connectedAddress,
            reply: self.reply,
            rule: self.rule?.description,
            failure: self.failure?.description,
            bytesUp: self.udp?.bytesUp ?? self.bytesUp,
            bytesDown: self.udp?.bytesDown ?? self.bytesDown,
            duration: NIODeadline.now() - self.started,
            accessLine: line
        )
    }

    /// The access line's fields for a structured log: the same names and values as the text line, raw (the
    /// log handler escapes for its format), numbers as numbers, plus `session`, the session's number.
    var fields: Logger.Metadata {
        var fields: Logger.Metadata = [
            "session": .stringConvertible(self.id),
            "client": .string(self.clientAddress.map(AddressText.format) ?? "-"),
            "user": .string(self.user ?? "-"),
            "version": .string(self.request.map { "\($0.version)" } ?? "-"),
            "command": .string(self.request.map { "\($0.command)" } ?? "-"),
            "requested": .string(self.request.map { $0.destination.description } ?? "-"),
            "connected": .string(self.connectedAddress.map(AddressText.format) ?? "-"),
            "reply": .string(self.reply?.codeDescription ?? "-"),
            "up": .stringConvertible(self.bytesUp),
            "down": .stringConvertible(self.bytesDown),
            "duration_ms": .stringConvertible(Double(max((NIODeadline.now() - self.started).nanoseconds, 0) / 100_000) / 10),
        ]
        if let udp = self.udp {
            fields["udp_up_datagrams"] = .stringConvertible(udp.datagramsUp)
            fields["udp_up_bytes"] = .stringConvertible(udp.bytesUp)
            fields["udp_down_datagrams"] = .stringConvertible(udp.datagramsDown)
            fields["udp_down_bytes"] = .stringConvertible(udp.bytesDown)
            var dropped: Logger.Metadata = [:]
            for reason in UDPDropReason.allCases {
                dropped[reason.rawValue] = .stringConvertible(udp[reason])
            }
            fields["udp_dropped"] = .dictionary(dropped)
        }
        if let rule = self.rule {
            fields["rule"] = .string(rule.description)
        }
        if let failure = self.failure {
            fields["error"] = .string(failure.description)
        }
        return fields
    }

    /// `client=… version=… command=… requested=… connected=… reply=… up=… down=… duration=…`, the fields the
    /// README documents; `-` where a field does not apply. Every text a client could have chosen goes
    /// through `AccessLogText` (the user, the requested name, the rule and the error, which may quote them).
    var line: String {
        let elapsed = NIODeadline.now() - self.started
        let tenthsOfMilliseconds = max(elapsed.nanoseconds / 100_000, 0)
        var line = "client=\(self.clientAddress.map(AddressText.format) ?? "-")"
        line += " user=\(self.user.map(AccessLogText.bare) ?? "-")"
        line += " version=\(self.request.map { "\($0.version)" } ?? "-")"
        line += " command=\(self.request.map { "\($0.command)" } ?? "-")"
        line += " requested=\(self.request.map { AccessLogText.bare($0.destination.description) } ?? "-")"
        line += " connected=\(self.connectedAddress.map(AddressText.format) ?? "-")"
        line += " reply=\(self.reply?.codeDescription ?? "-")"
        line += " up=\(self.bytesUp) down=\(self.bytesDown)"
        if let udp = self.udp {
            line += " \(udp.description)"
        }
        if let rule = self.rule {
            line += " rule=\(AccessLogText.bare(rule.description))"
        }
        line += " duration=\(tenthsOfMilliseconds / 10).\(tenthsOfMilliseconds % 10)ms"
        if let failure = self.failure {
            line += " error=\"\(AccessLogText.quoted(failure.description))\""
        }
        return line
    }
}
