import CalzinoPolicy
import NIOCore
import SOCKSCore

/// CONNECT's step: dials the destination under the session's connect timeout and policy, and reports the
/// outcome as the state machine needs it (the outbound channel's local address is the reply's BND).
enum DialStep {
    static func run(
        _ destination: SOCKSEndpoint,
        dialer: any SOCKSDialer,
        timeout: TimeAmount,
        policy: DestinationPolicy,
        metrics: ServerMetrics?,
        on eventLoop: any EventLoop,
        reportingTo receiver: any SessionStepReceiver
    ) {
        let start = NIODeadline.now()
        dialer.dial(destination, on: eventLoop, timeout: timeout, policy: policy)
            .hop(to: eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                metrics?.connectDuration.recordNanoseconds(max((NIODeadline.now() - start).nanoseconds, 0))
                switch result {
                case .success(let target):
                    let bound = target.localAddress.map(SOCKSEndpoint.init) ?? .unspecified
                    receiver.stepFinished(SessionStepResult(.dialSucceeded(bound: bound), .channel(target)))
                case .failure(let error):
                    let cause = SOCKSFailureCause(connectError: error)
                    let failure: SessionFailure
                    if let denied = error as? DestinationDenied {
                        failure = .destinationDenied(denied.reason, detail: denied.description)
                    } else {
                        failure = .connectFailed(cause, detail: "\(error)")
                    }
                    receiver.stepFinished(SessionStepResult(.dialFailed(cause, failure)))
                }
            }
    }
}
