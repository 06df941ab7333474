import NIOCore
import SOCKSCore

/// A CIDR block, IPv4 or IPv6: `10.0.0.0/8`, `fd00::/8`, or a single address (`192.0.2.7`, `::1`).
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    private enum Network: Hashable {
        case ipv4(UInt32, mask: UInt32)
        case ipv6(SOCKSIPv6Address, mask: SOCKSIPv6Address)
    }

    private let network: Network
    public let description: String

    /// `nil` when `text` is not an address with an optional `/prefix` in range for its family.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = String(parts[0])
        guard let address = try? SocketAddress(ipAddress: addressText, port: 0) else { return nil }
        let host = SOCKSEndpoint(address).host
        let maximum = address.protocol == .inet ? 32 : 128
        var prefix = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            prefix = value
        }
        switch host {
        case .ipv4(let value):
            let mask = AddressPrefix.ipv4Mask(prefix)
            self.network = .ipv4(value & mask, mask: mask)
        case .ipv6(let value):
            self.network = .ipv6(value.masked(toPrefix: prefix), mask: AddressPrefix.ipv6Mask(prefix))
        case .name:
            return nil
        }
        self.description = parts.count == 2 ? "\(addressText)/\(prefix)" : addressText
    }

    /// Whether `host` lies in the block. An IPv4-mapped IPv6 address counts as the IPv4 address it carries;
    /// a name never does.
    public func contains(_ host: SOCKSHost) -> Bool {
        switch (self.network, host.unmapped) {
        case (.ipv4(let network, let mask), .ipv4(let address)):
            return address & mask == network
        case (.ipv6(let network, let mask), .ipv6(let address)):
            return address.high & mask.high == network.high && address.low & mask.low == network.low
        default:
            return false
        }
    }
}
