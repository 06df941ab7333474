import CCalzinoShims

/// glibc's heap settings for a long-running server process, set once at start. Process-wide, so the
/// executable applies them (`calzino serve`); a program embedding the server decides for itself.
package enum HeapTuning {
    /// From this size up every allocation gets its own mapping, returned to the kernel when freed. scrypt
    /// needs 16 MiB per verification (N 16384, r 8); glibc would raise its mmap threshold after the first such
    /// free and keep the blocks in the arena of whichever worker thread verified, so resident memory crept up
    /// over a long run as more threads took part (seen in a 30-minute soak). The relay's buffers (256 KiB at
    /// most) stay below it.
    static let mmapThreshold: Int32 = 1 << 20

    /// Free heap an arena keeps instead of handing it back. Setting the mmap threshold also pins this at
    /// 128 KiB, and since the relay allocates each read's buffer and frees it once written
    /// (`RelayReceiveAllocator`), glibc then returned the freed top of an arena after nearly every bulk read
    /// and faulted it back in on the next: the relay's CPU per megabyte rose 2-3x.
    static let trimThreshold: Int32 = 8 << 20

    package static func apply() {
        _ = calzino_set_mmap_threshold(Self.mmapThreshold)
        _ = calzino_set_trim_threshold(Self.trimThreshold)
    }
}
