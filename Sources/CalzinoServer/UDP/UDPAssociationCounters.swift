/// Why an association dropped a datagram. Bounded, for counters and metrics labels.
enum UDPDropReason: String, CaseIterable, Sendable {
    /// From an address or port other than the client's.
    case foreign
    /// FRAG != 0: this server does not reassemble.
    case fragment
    /// A header that does not parse.
    case malformed
    /// A destination name that did not resolve, or no socket for its family.
    case unroutable
    /// A reply that came before the client's address was known.
    case early
    /// A destination the policy (the listener's protected classes or the rules) denies.
    case denied
    /// A reply from an address and port the association never sent to (`udp-replies: sent-to`).
    case unsolicited
    /// Beyond the session's or the user's bandwidth.
    case bandwidth
    /// Beyond the bounds on name lookups in flight, on datagrams waiting for them, or on descriptors.
    case busy
}

/// What one UDP association moved and dropped, for its access-log line.
struct UDPAssociationCounters {
    var datagramsUp = 0
    var bytesUp = 0
    var datagramsDown = 0
    var bytesDown = 0
    private var dropped = [Int](repeating: 0, count: UDPDropReason.allCases.count)

    mutating func drop(_ reason: UDPDropReason) {
        if let index = UDPDropReason.allCases.firstIndex(of: reason) {
            self.dropped[index] &+= 1
        }
    }

    subscript(reason: UDPDropReason) -> Int {
        UDPDropReason.allCases.firstIndex(of: reason).map { self.dropped[$0] } ?? 0
    }

    var description: String {
        let drops = UDPDropReason.allCases.map { "\($0.rawValue):\(self[$0])" }.joined(separator: ",")
        return "udp-up=\(self.datagramsUp)/\(self.bytesUp)B udp-down=\(self.datagramsDown)/\(self.bytesDown)B udp-dropped=\(drops)"
    }
}
