import SOCKSCore

/// The destinations an association has sent to, and which rule allowed each: replies are taken only from
/// them (`udp-replies: sent-to`) and are paced by that rule's buckets. Bounded: past `capacity`, the
/// destination first sent to longest ago is forgotten first (the order of first sends, not of last use).
struct UDPPeers {
    static let capacity = 1024

    private var rules: [SOCKSEndpoint: String] = [:]
    private var order: [SOCKSEndpoint] = []
    private var oldest = 0

    /// The key of the rule that allowed sending to `peer`, if the association has sent to it.
    subscript(peer: SOCKSEndpoint) -> String? {
        self.rules[peer]
    }

    mutating func sent(to peer: SOCKSEndpoint, rule: String) {
        if self.rules.updateValue(rule, forKey: peer) != nil { return }
        if self.order.count < Self.capacity {
            self.order.append(peer)
            return
        }
        // A ring over the order of first sends: the slot of the oldest takes the new one.
        self.rules.removeValue(forKey: self.order[self.oldest])
        self.order[self.oldest] = peer
        self.oldest = (self.oldest + 1) % Self.capacity
    }

    var count: Int { self.rules.count }
}
