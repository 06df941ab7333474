/// The limit state all listeners share and a reload keeps: session counts, users' bandwidth buckets,
/// handshake rates per client, and the UDP name lookups in flight.
struct SharedLimiters: Sendable {
    let sessions = SessionCounter()
    let userBuckets = UserBuckets()
    let handshakes = HandshakeRateLimiter()
    let udpLookups = UDPLookupBudget()
    let handshakeWarning = ThrottledWarning(message: "handshake rate limit reached, closing connections")
}
