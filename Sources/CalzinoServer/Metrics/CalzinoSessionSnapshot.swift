import NIOCore

/// One open session as the admin listener's `/sessions` and status page show it: taken on the session's own
/// event loop, so reading it costs the relay nothing.
public struct CalzinoSessionSnapshot: Sendable, Codable, Hashable {
    /// The server's number for the session (also in JSON log lines).
    public var id: UInt64
    public var client: String
    /// The authenticated user, `ident:NAME`, or `nil`.
    public var user: String?
    /// `socks4`, `socks4a`, `socks5`; `nil` before the request is read.
    public var version: String?
    public var command: String?
    /// The destination as the client asked for it.
    public var destination: String?
    public var bytesUp: Int
    public var bytesDown: Int
    public var ageSeconds: Double

    /// Taken on the session's event loop: the bytes so far are read from the relay's handler, or the UDP
    /// association, in `channel`'s pipeline (nothing on the data path keeps them for this).
    init(_ record: SessionRecord, channel: any Channel, now: NIODeadline = .now()) {
        var live = (up: record.bytesUp, down: record.bytesDown)
        if let relay = try? channel.pipeline.syncOperations.handler(type: RelayHandler.self) {
            live = (relay.bytesRead, relay.partnerBytesRead)
        } else if let session = try? channel.pipeline.syncOperations.handler(type: SessionHandler.self),
            let counters = session.association?.counters
        {
            live = (counters.bytesUp, counters.bytesDown)
        }
        let udp = record.udp
        self.id = record.id
        self.client = record.clientAddress.map(AddressText.format) ?? "-"
        self.user = record.user
        self.version = record.request.map { "\($0.version)" }
        self.command = record.request.map { "\($0.command)" }
        self.destination = record.request.map { $0.destination.description }
        self.bytesUp = udp?.bytesUp ?? live.up
        self.bytesDown = udp?.bytesDown ?? live.down
        self.ageSeconds = Double(max((now - record.started).nanoseconds, 0)) / 1_000_000_000
    }
}
