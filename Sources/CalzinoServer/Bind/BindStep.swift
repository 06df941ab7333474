import CalzinoPolicy
import NIOCore
import SOCKSCore

/// BIND's step: opens the listener (`BindListener`), reports it, then reports the peer that connects, after
/// the session's destination policy has looked at it.
enum BindStep {
    static func run(
        expecting destination: SOCKSEndpoint,
        clientReached local: SocketAddress?,
        policy: DestinationPolicy,
        descriptors: DescriptorLedger,
        on eventLoop: any EventLoop,
        reportingTo receiver: any SessionStepReceiver
    ) {
        // The listener is a descriptor beyond the two the connection holds (issue 12, defect 9).
        guard descriptors.reserve(1) else {
            receiver.stepFinished(.setupFailed(.setupFailed(detail: "descriptor capacity reached")))
            return
        }
        let onPeer: BindListener.PeerHandler = { result in
            switch result {
            case .success(let peer):
                if let address = peer.remoteAddress, let reason = policy.denial(of: address) {
                    var refused = SessionStepResult(.bindPeerRefused(.notAllowedByRuleset, .denied(reason)), .channel(peer))
                    refused.peer = address
                    receiver.stepFinished(refused)
                } else {
                    receiver.stepFinished(SessionStepResult(.bindPeerArrived(peer.remoteAddress.map(SOCKSEndpoint.init) ?? .unspecified), .channel(peer)))
                }
            case .failure(let failure):
                receiver.stepFinished(SessionStepResult(.bindPeerRefused(failure.cause, failure.failure)))
            }
        }
        BindListener.open(expecting: destination, clientReached: local, on: eventLoop, onPeer: onPeer)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let listener):
                    if let closed = listener.closeFuture {
                        closed.whenComplete { _ in descriptors.release(1) }
                    } else {
                        descriptors.release(1)
                    }
                    guard let bound = listener.localAddress else {
                        receiver.stepFinished(.setupFailed(.setupFailed(detail: "BIND listener has no address"), discarding: .listener(listener)))
                        return
                    }
                    receiver.stepFinished(SessionStepResult(.bindListening(bound: SOCKSEndpoint(bound)), .listener(listener)))
                case .failure(let error):
                    descriptors.release(1)
                    let failure = error as? BindListener.BindFailure ?? BindListener.BindFailure(cause: .generalFailure, failure: .setupFailed(detail: "\(error)"))
                    receiver.stepFinished(SessionStepResult(.setupFailed(failure.cause, failure.failure)))
                }
            }
    }
}
