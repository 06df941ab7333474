import CalzinoPolicy
import NIOCore
import SOCKSCore

/// UDP ASSOCIATE's step: opens the association's client socket on the address the client reached the
/// server on, and reports the address the reply names: that address (or the advertised one) and the
/// socket's port.
enum AssociationStep {
    static func run(
        declared: SOCKSEndpoint,
        client: SocketAddress,
        local: SocketAddress,
        terms: UDPAssociation.Terms,
        on eventLoop: any EventLoop,
        reportingTo receiver: any SessionStepReceiver
    ) {
        let advertised = terms.settings.udpAdvertise ?? local
        UDPAssociation.open(on: eventLoop, client: client, declared: declared, localAddress: local, terms: terms)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let association):
                    guard let port = association.boundPort else {
                        receiver.stepFinished(.setupFailed(.setupFailed(detail: "UDP socket has no port"), discarding: .association(association)))
                        return
                    }
                    let bound = SOCKSEndpoint(host: SOCKSEndpoint(advertised).host, port: UInt16(clamping: port))
                    receiver.stepFinished(SessionStepResult(.associationOpened(bound: bound), .association(association)))
                case .failure(let error):
                    receiver.stepFinished(.setupFailed(.setupFailed(detail: "\(error)")))
                }
            }
    }
}
