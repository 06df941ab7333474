/// The limit state all listeners share and a reload keeps: session counts, users' bandwidth buckets,
/// handshake rates per client, the UDP name lookups in flight, and the descriptors sessions hold.
struct SharedLimiters: Sendable {
    let sessions = SessionCounter()
    let userBuckets = UserBuckets()
    let handshakes = HandshakeRateLimiter()
    let udpLookups = UDPLookupBudget()
    let descriptors = DescriptorLedger()
    let handshakeWarning = ThrottledWarning(message: "handshake rate limit reached, closing connections")
}
