import NIOCore

/// Socket settings of both channels of a relayed session, chosen by measurement (see docs/benchmarks.md).
///
/// Together they bound what a session holds in user space: reading from one side stops once the other
/// side's outbound buffer passes `writeBufferWaterMark.high`, and one readiness event reads at most
/// `maxMessagesPerRead` buffers of at most `maximumReceiveSize`, so each direction holds at most
/// ``maximumBufferedBytesPerDirection``.
public enum RelayTuning {
    public static let maximumReceiveSize = 256 * 1024
    /// NIO's default, not set explicitly: every channel option applied costs time on each new channel.
    public static let maxMessagesPerRead = 4
    /// NIO's default (32 KiB low, 64 KiB high), not set explicitly for the same reason.
    public static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 64 * 1024)

    /// Reads start small, so that the many sessions that move little hold little (idle tunnels cost about
    /// 7 KiB), and grow by doubling under bulk load; no buffer is kept once written (`RelayReceiveAllocator`).
    static let receiveAllocator = RelayReceiveAllocator(minimum: 64, initial: 512, maximum: maximumReceiveSize)

    /// Applies the relay's options to a new channel, on its loop, before it is registered. Set here rather
    /// than as bootstrap options: NIO applies bootstrap options through a chain of futures, which cost about
    /// 45 allocations per session.
    static func configure(_ channel: any Channel) throws {
        guard let options = channel.syncOptions else { return }
        try options.setOption(.allowRemoteHalfClosure, value: true)
        try options.setOption(.recvAllocator, value: Self.receiveAllocator)
    }

    /// A rate-limited direction reads one buffer of `bytes` per readiness event: what it reserved in its
    /// buckets (starting small would make it wait for whole reservations while reading little).
    static func limitReads(_ channel: any Channel, to bytes: Int) throws {
        guard let options = channel.syncOptions else { return }
        let maximum = max(min(bytes, Self.maximumReceiveSize), 64)
        try options.setOption(.recvAllocator, value: RelayReceiveAllocator(minimum: 64, initial: maximum, maximum: maximum))
        try options.setOption(.maxMessagesPerRead, value: 1)
    }

    /// The most a session buffers in one direction, whatever its peers do.
    public static let maximumBufferedBytesPerDirection = writeBufferWaterMark.high + maxMessagesPerRead * maximumReceiveSize
}
