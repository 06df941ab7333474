import NIOCore

/// The receive-buffer sizes of a relayed channel: NIO's adaptive sizes (small for the many channels that move
/// little, doubling under bulk load), but never a pooled buffer.
///
/// NIO keeps the buffers a channel reads into (up to `maxMessagesPerRead` of them) and reuses them when the
/// allocator names a size; a kept buffer never shrinks. A tunnel that once moved bulk data then kept up to
/// 4 x 256 KiB per side for as long as it lived, idle or not: 2 MiB per tunnel, measured. Without a size hint
/// NIO allocates each read's buffer afresh (one allocation per read, a few per relayed megabyte) and frees
/// it once the partner has written it, so an idle tunnel holds only the small buffers of its first reads.
struct RelayReceiveAllocator: RecvByteBufferAllocator {
    private var sizes: AdaptiveRecvByteBufferAllocator

    init(minimum: Int, initial: Int, maximum: Int) {
        self.sizes = AdaptiveRecvByteBufferAllocator(minimum: minimum, initial: initial, maximum: maximum)
    }

    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        self.sizes.buffer(allocator: allocator)
    }

    /// No hint: NIO then reuses none of the buffers it keeps.
    func nextBufferSize() -> Int? {
        nil
    }

    mutating func record(actualReadBytes: Int) -> Bool {
        self.sizes.record(actualReadBytes: actualReadBytes)
    }
}
