/// A rate limit per direction in bytes per second; `nil` leaves that direction unlimited. "Up" is client to
/// destination, "down" destination to client.
public struct Bandwidth: Hashable, Sendable, CustomStringConvertible {
    public var up: Int?
    public var down: Int?

    public init(up: Int? = nil, down: Int? = nil) {
        self.up = up
        self.down = down
    }

    public var isUnlimited: Bool { self.up == nil && self.down == nil }

    public var description: String {
        "up=\(self.up.map(String.init) ?? "unlimited") down=\(self.down.map(String.init) ?? "unlimited")"
    }
}
