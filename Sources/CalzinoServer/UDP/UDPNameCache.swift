import NIOCore

/// The addresses of the destination names an association's datagrams gave, kept briefly (issue 12, defect
/// 8: bounded in size and in time, so that a client sending to ever new names holds a fixed amount).
struct UDPNameCache {
    static let lifetime = TimeAmount.seconds(30)
    static let capacity = 256

    private var entries: [String: (addresses: [SocketAddress], expires: NIODeadline)] = [:]

    func addresses(of name: String, now: NIODeadline = .now()) -> [SocketAddress]? {
        guard let entry = self.entries[name], entry.expires > now else { return nil }
        return entry.addresses
    }

    mutating func store(_ addresses: [SocketAddress], for name: String, now: NIODeadline = .now()) {
        if self.entries.count >= Self.capacity, self.entries[name] == nil {
            self.entries = self.entries.filter { $0.value.expires > now }
            if self.entries.count >= Self.capacity, let any = self.entries.first {
                self.entries.removeValue(forKey: any.key)
            }
        }
        self.entries[name] = (addresses, now + Self.lifetime)
    }

    var count: Int { self.entries.count }
}
