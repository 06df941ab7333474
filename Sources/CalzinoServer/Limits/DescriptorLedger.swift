import Logging
import NIOConcurrencyHelpers

/// The file descriptors sessions hold, against what the process may open (issue 12, defect 9). A client
/// connection takes two on arrival (itself, and its target or UDP socket, which every request opens); a
/// BIND listener and each of a UDP association's outbound sockets (one per family) take one more while
/// they are open. Beyond the capacity a new connection is closed at once and logged, and an extra socket is
/// refused, so that the process never runs into EMFILE, where accepting stops and connections hang in
/// silence.
final class DescriptorLedger: Sendable {
    /// What a client connection takes on arrival.
    static let perConnection = 2

    private struct State {
        var held = 0
        var capacity = Int.max
    }

    private let state = NIOLockedValueBox(State())
    private let warning = ThrottledWarning(message: "descriptor capacity reached, refusing connections")

    func setCapacity(_ capacity: Int) {
        self.state.withLockedValue { $0.capacity = max(capacity, 0) }
    }

    /// Takes `count` descriptors if they fit; `false` (nothing taken) if not.
    func reserve(_ count: Int) -> Bool {
        self.state.withLockedValue { state in
            guard state.held <= state.capacity - count else { return false }
            state.held += count
            return true
        }
    }

    func release(_ count: Int) {
        self.state.withLockedValue { $0.held = max($0.held - count, 0) }
    }

    /// Takes a new connection's descriptors, or logs (now and then) why the connection is refused.
    func admitConnection(logger: Logger) -> Bool {
        if self.reserve(Self.perConnection) { return true }
        let (held, capacity) = self.state.withLockedValue { ($0.held, $0.capacity) }
        self.warning.record(logger, metadata: ["descriptors-held": "\(held)", "descriptor-capacity": "\(capacity)"])
        return false
    }

    var held: Int {
        self.state.withLockedValue { $0.held }
    }
}
