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
        var failure: SessionFailure

        /// A failure the reply code says all about.
        static func refused(_ cause: SOCKSFailureCause) -> BindFailure {
            BindFailure(cause: cause, failure: .refused(cause))
        }
    }

    private var channel: (any Channel)?
    private var onPeer: PeerHandler?
    private let peerCheck: BindPeerCheck

    private init(peerCheck: BindPeerCheck, onPeer: @escaping PeerHandler) {
        self.peerCheck = peerCheck
        self.onPeer = onPeer
    }

    /// Opens a listener for the peer DST names (resolving a name off the event loop first), on the address
    /// `BindPeerCheck` picks, on `eventLoop`, which must be the current loop. Fails with a `BindFailure`.
    static func open(
        expecting destination: SOCKSEndpoint,
        clientReached local: SocketAddress?,
        on eventLoop: any EventLoop,
        onPeer: @escaping PeerHandler
    ) -> EventLoopFuture<BindListener> {
        guard case .name(let name) = destination.host else {
            let peers = destination.socketAddress.map { [$0] } ?? []
            return Self.open(BindPeerCheck(expecting: peers), clientReached: local, on: eventLoop, onPeer: onPeer)
        }
        let opened = eventLoop.makePromise(of: BindListener.self)
        ConcurrentResolver.resolve(host: name, port: Int(destination.port), on: eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let peers) where !peers.isEmpty:
                    Self.open(BindPeerCheck(expecting: peers), clientReached: local, on: eventLoop, onPeer: onPeer)
                        .assumeIsolated()
                        .whenComplete { opened.assumeIsolated().completeWith($0) }
                case .success, .failure:
                    opened.fail(BindFailure.refused(.nameNotResolved))
                }
            }
        return opened.futureResult
    }

    private static func open(
        _ peerCheck: BindPeerCheck,
        clientReached local: SocketAddress?,
        on eventLoop: any EventLoop,
        onPeer: @escaping PeerHandler
    ) -> EventLoopFuture<BindListener> {
        guard let address = peerCheck.listeningAddress(clientReached: local) else {
            return eventLoop.makeFailedFuture(BindFailure.refused(.networkUnreachable))
        }
        let listener = BindListener(peerCheck: peerCheck, onPeer: onPeer)
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
            .flatMapErrorThrowing { error in
                throw BindFailure(cause: .generalFailure, failure: .setupFailed(detail: "\(error)"))
            }
    }

    var localAddress: SocketAddress? { self.channel?.localAddress }

    /// Completes when the listening socket has closed; `nil` once it is closing.
    var closeFuture: EventLoopFuture<Void>? { self.channel?.closeFuture }

    /// Closes the listener; a peer that has not arrived will not be handed on.
    func close() {
        self.onPeer = nil
        self.channel?.close(promise: nil)
        self.channel = nil
    }

    private func accepted(_ child: any Channel) -> EventLoopFuture<Void> {
        guard let onPeer = self.onPeer else {
            return child.eventLoop.makeFailedFuture(BindFailure.refused(.generalFailure))
        }
        self.onPeer = nil
        // Close the listener on the next tick: NIO registers an accepted channel only while its listener is
        // still open, and that check comes right after this initializer.
        if let listening = self.channel {
            self.channel = nil
            listening.eventLoop.assumeIsolated().execute { listening.close(promise: nil) }
        }
        guard self.peerCheck.admits(child.remoteAddress) else {
            let failure = BindFailure.refused(.unexpectedPeer)
            onPeer(.failure(failure))
            return child.eventLoop.makeFailedFuture(failure)
        }
        do {
            try RelayTuning.configure(child)
            try child.syncOptions?.setOption(.autoRead, value: false)
        } catch {
            onPeer(.failure(BindFailure(cause: .generalFailure, failure: .setupFailed(detail: "\(error)"))))
            return child.eventLoop.makeFailedFuture(error)
        }
        onPeer(.success(child))
        return child.eventLoop.makeSucceededVoidFuture()
    }
}

@available(*, unavailable)
extension BindListener: Sendable {}
