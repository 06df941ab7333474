import CalzinoPolicy
import CalzinoServer
import NIOCore
import SOCKSCore

/// A dialer that fails every connect with one error, to see how each cause reaches the wire.
package struct FailingDialer: SOCKSDialer {
    package struct Opaque: Error {
        package init() {}
    }

    package let error: any Error & Sendable

    package init(error: any Error & Sendable) { self.error = error }

    package func dial(_ destination: SOCKSEndpoint, on eventLoop: any EventLoop, timeout: TimeAmount, policy: DestinationPolicy) -> EventLoopFuture<any Channel> {
        eventLoop.makeFailedFuture(self.error)
    }
}
