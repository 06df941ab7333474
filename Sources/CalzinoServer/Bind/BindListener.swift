import NIOCore
import NIOPosix
import SOCKSCore

/// The listener of one BIND: opened on the egress address, it accepts exactly one connection, checks that
/// the peer is the one the client named (when it named one), and hands the connection on. It closes as soon
/// as it has a peer, a refusal, or is cancelled.
final class BindListener {
    /// The peer's connection, ready for the relay (reading off, options set), or why the BIND failed.
    typealias PeerHandler = (Result<any Channel, BindFailure>) -> Void

    struct BindFailure: Error {
        var cause: SOCKSFailureCause
    }

    private var channel: (any Channel)?
    private var onPeer: PeerHandler?
    /// The hosts a peer may come from; `nil` admits any.
    private let expectedHosts: Set<SOCKSHost>?

    private init(expectedHosts: Set<SOCKSHost>?, onPeer: @escaping PeerHandler) {
        self.expectedHosts = expectedHosts
        self.onPeer = onPeer
    }

    /// Opens a listener on `address` (port 0 picks one) on `eventLoop`, which must be the current loop.
    static func open(
        on eventLoop: any EventLoop,
        address: SocketAddress,
        expectedHosts: Set<SOCKSHost>?,
        onPeer: @escaping PeerHandler
    ) -> EventLoopFuture<BindListener> {
        let listener = BindListener(expectedHosts: expectedHosts, onPeer: onPeer)
        let bound = NIOLoopBound(listener, eventLoop: eventLoop)
        return ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 1)
            .childChannelInitializer { child in
                bound.value.accepted(child)
            }
            .bind(to: address)
            .map { channel in
                let listener = bound.value
                listener.channel = channel
                return listener
            }
    }

    var localAddress: SocketAddress? { self.channel?.localAddress }

    /// Closes the listener; a peer that has not arrived will not be handed on.
    func close() {
        self.onPeer = nil
        self.channel?.close(promise: nil)
        self.channel = nil
    }

    private func accepted(_ child: any Channel) -> EventLoopFuture<Void> {
        guard let onPeer = self.onPeer else {
            return child.eventLoop.makeFailedFuture(BindFailure(cause: .generalFailure))
        }
        self.onPeer = nil
        // Close the listener on the next tick: NIO registers an accepted channel only while its listener is
        // still open, and that check comes right after this initializer.
        if let listening = self.channel {
            self.channel = nil
            listening.eventLoop.assumeIsolated().execute { listening.close(promise: nil) }
        }
        let peerHost = child.remoteAddress.map { SOCKSEndpoint($0).host }
        if let expected = self.expectedHosts, !(peerHost.map(expected.contains) ?? false) {
            onPeer(.failure(BindFailure(cause: .unexpectedPeer)))
            return child.eventLoop.makeFailedFuture(BindFailure(cause: .unexpectedPeer))
        }
        do {
            try RelayTuning.configure(child)
            try child.syncOptions?.setOption(.autoRead, value: false)
        } catch {
            onPeer(.failure(BindFailure(cause: .generalFailure)))
            return child.eventLoop.makeFailedFuture(error)
        }
        onPeer(.success(child))
        return child.eventLoop.makeSucceededVoidFuture()
    }
}

@available(*, unavailable)
extension BindListener: Sendable {}
