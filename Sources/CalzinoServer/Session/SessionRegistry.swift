import NIOConcurrencyHelpers
import NIOCore

/// The open client connections of a server, so that a graceful shutdown can wait for them and then close
/// the ones left. Touched once when a connection opens and once when it closes, never on the data path.
///
/// Removal hangs on the channel's close future rather than on handler events: a connection accepted just as
/// its listener closes can be closed before it ever becomes active, and then no handler hears of it.
final class SessionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.removeValue(forKey: key) }
        }
    }

    var count: Int {
        self.channels.withLockedValue { $0.count }
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
        self.channels.withLockedValue { Array($0.values) }
    }

    /// Closes every client connection still open; their relays close the target sides.
    func closeAll() {
        for channel in self.snapshot {
            channel.close(promise: nil)
        }
    }
}
