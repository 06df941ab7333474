/// The limit state all listeners share and a reload keeps: session counts, users' bandwidth buckets, and
/// handshake rates per client.
struct SharedLimiters: Sendable {
    let sessions = SessionCounter()
    let userBuckets = UserBuckets()
    let handshakes = HandshakeRateLimiter()
    let handshakeWarning = ThrottledWarning(message: "handshake rate limit reached, closing connections")
}
