import CalzinoPolicy
import NIOCore

/// Joins a client connection whose success reply is out to its target (the dialed connection or the BIND
/// peer): a `RelayHandler` pair with the session's bandwidth throttles, reading turned on at the target, and
/// the `RelaySession` that ends the session once both channels have closed.
enum RelayWiring {
    /// Adds the pair (the client's half after `handler`) and starts the session. On an error nothing is
    /// left half-wired: the caller closes both channels.
    static func start(
        client context: ChannelHandlerContext,
        after handler: any ChannelHandler,
        target: any Channel,
        settings: SessionSettings,
        record: SessionRecord
    ) throws {
        let (clientSide, targetSide) = RelayHandler.matchedPair()
        clientSide.throttle = Self.throttle(.up, settings: settings, user: record.user)
        targetSide.throttle = Self.throttle(.down, settings: settings, user: record.user)
        if let throttle = clientSide.throttle {
            try RelayTuning.limitReads(context.channel, to: throttle.maximumRead)
        }
        if let throttle = targetSide.throttle {
            try RelayTuning.limitReads(target, to: throttle.maximumRead)
        }
        clientSide.byteCounter = settings.metrics?.bytesUp
        targetSide.byteCounter = settings.metrics?.bytesDown
        try context.pipeline.syncOperations.addHandler(clientSide, position: .after(handler))
        try target.pipeline.syncOperations.addHandler(targetSide)
        try target.syncOptions?.setOption(.autoRead, value: true)
        record.connectedAddress = target.remoteAddress
        RelaySession(
            client: clientSide,
            target: targetSide,
            clientChannel: context.channel,
            targetChannel: target,
            record: record,
            settings: settings
        ).start()
    }

    /// The buckets one direction of the session reads against: its own rate, and its user's shared one.
    static func throttle(_ direction: UserBuckets.Direction, settings: SessionSettings, user: String?) -> RelayThrottle? {
        func rate(_ bandwidth: Bandwidth?) -> Int? {
            direction == .up ? bandwidth?.up : bandwidth?.down
        }
        let own = rate(settings.limits.bandwidthPerSession).map { TokenBucket(rate: $0) }
        var shared: TokenBucket?
        if let user, let perUser = rate(settings.limits.bandwidthPerUser) {
            shared = settings.shared.userBuckets.bucket(user: user, scope: settings.userBandwidthScope, direction: direction, rate: perUser)
        }
        return RelayThrottle([own, shared])
    }
}
