import CalzinoPolicy
import CalzinoServer
import NIOCore
import SOCKSCore

/// A dialer that fails every connect with one error, to see how each cause reaches the wire.
struct FailingDialer: SOCKSDialer {
    struct Opaque: Error {}
    let error: any Error & Sendable

    func dial(_ destination: SOCKSEndpoint, on eventLoop: any EventLoop, timeout: TimeAmount, policy: DestinationPolicy) -> EventLoopFuture<any Channel> {
        eventLoop.makeFailedFuture(self.error)
    }
}
