import NIOConcurrencyHelpers
import NIOCore

/// The open client connections of a server, so that a graceful shutdown can wait for them and then close
/// the ones left. Touched once when a connection opens and once when it closes, never on the data path.
///
/// Removal hangs on the channel's close future rather than on handler events: a connection accepted just as
/// its listener closes can be closed before it ever becomes active, and then no handler hears of it.
final class SessionRegistry: Sendable {
    /// A connection and its session's record, which only its event loop touches.
    struct Entry: Sendable {
        let channel: any Channel
        let record: NIOLoopBound<SessionRecord>
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var lastID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Registers a connection, on its event loop, with the record `makeRecord` makes from the session's
    /// number (1, 2, 3... for the server's life); returns the record. When the connection closes, its
    /// entry goes and the descriptors it took from `descriptors` come back.
    func add(_ channel: any Channel, holding descriptors: DescriptorLedger? = nil, makeRecord: (UInt64) -> SessionRecord) -> SessionRecord {
        let key = ObjectIdentifier(channel)
        let record = self.state.withLockedValue { state -> SessionRecord in
            state.lastID &+= 1
            let record = makeRecord(state.lastID)
            state.entries[key] = Entry(channel: channel, record: NIOLoopBound(record, eventLoop: channel.eventLoop))
            return record
        }
        channel.closeFuture.whenComplete { _ in
            self.state.withLockedValue { _ = $0.entries.removeValue(forKey: key) }
            descriptors?.release(DescriptorLedger.perConnection)
        }
        return record
    }

    var count: Int {
        self.state.withLockedValue { $0.entries.count }
    }

    /// The open sessions (the `limit` oldest), read on their own event loops: one hop per loop.
    func snapshots(limit: Int) async -> [CalzinoSessionSnapshot] {
        let entries = self.state.withLockedValue { Array($0.entries.values) }
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, entries: [Entry])] = [:]
        for entry in entries {
            let key = ObjectIdentifier(entry.channel.eventLoop)
            byLoop[key, default: (entry.channel.eventLoop, [])].entries.append(entry)
        }
        var snapshots: [CalzinoSessionSnapshot] = []
        snapshots.reserveCapacity(entries.count)
        for (loop, onLoop) in byLoop.values {
            let taken = try? await loop.submit {
                onLoop.map { CalzinoSessionSnapshot($0.record.value, channel: $0.channel) }
            }.get()
            snapshots.append(contentsOf: taken ?? [])
        }
        return Array(snapshots.sorted { $0.id < $1.id }.prefix(max(limit, 0)))
    }

    /// Waits until every session has ended or `deadline` passes; returns how many are still open.
    func drain(until deadline: NIODeadline) async -> Int {
        while self.count > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return self.count
    }

    /// The client connections open now.
    var snapshot: [any Channel] {
        self.state.withLockedValue { $0.entries.values.map(\.channel) }
    }

    /// Closes every client connection still open; their relays close the target sides.
    func closeAll() {
        for channel in self.snapshot {
            channel.close(promise: nil)
        }
    }
}
