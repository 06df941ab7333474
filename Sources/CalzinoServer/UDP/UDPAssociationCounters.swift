/// What one UDP association moved and dropped, for its access-log line.
struct UDPAssociationCounters {
    var datagramsUp = 0
    var bytesUp = 0
    var datagramsDown = 0
    var bytesDown = 0
    /// From an address or port other than the client's.
    var droppedForeign = 0
    /// FRAG != 0: this server does not reassemble.
    var droppedFragment = 0
    /// A header that does not parse.
    var droppedMalformed = 0
    /// A destination name that did not resolve, or no socket for its family.
    var droppedUnroutable = 0
    /// A reply that came before the client's address was known.
    var droppedEarly = 0
    /// A destination the listener's policy denies.
    var droppedDenied = 0

    var description: String {
        "udp-up=\(self.datagramsUp)/\(self.bytesUp)B udp-down=\(self.datagramsDown)/\(self.bytesDown)B"
            + " udp-dropped=foreign:\(self.droppedForeign),fragment:\(self.droppedFragment),malformed:\(self.droppedMalformed),unroutable:\(self.droppedUnroutable),early:\(self.droppedEarly),denied:\(self.droppedDenied)"
    }
}
