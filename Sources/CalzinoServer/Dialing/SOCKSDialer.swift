import CalzinoPolicy
import NIOCore
import SOCKSCore

/// Opens the outbound connection for a CONNECT. The server calls it on the client channel's event loop
/// and expects a channel on that same loop, so that the relay's two channels never cross threads.
///
/// The returned channel must have `autoRead` off and `allowRemoteHalfClosure` on: the relay turns reading on
/// once both halves of the session are wired. A dialer must not connect to an address `policy` denies, and
/// fails with `DestinationDenied` when that leaves nothing to connect to.
public protocol SOCKSDialer: Sendable {
    func dial(_ destination: SOCKSEndpoint, on eventLoop: any EventLoop, timeout: TimeAmount, policy: DestinationPolicy) -> EventLoopFuture<any Channel>
}
