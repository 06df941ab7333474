import SOCKSCore

/// Prefix masks, for CIDR blocks, the special-purpose table and per-client keys alike. A prefix outside the
/// family's bits is clamped, never trapped on.
enum AddressPrefix {
    static func ipv4Mask(_ bits: Int) -> UInt32 {
        bits <= 0 ? 0 : bits >= 32 ? ~0 : ~UInt32(0) << UInt32(32 - bits)
    }

    static func ipv6Mask(_ bits: Int) -> SOCKSIPv6Address {
        func half(_ count: Int) -> UInt64 {
            count <= 0 ? 0 : count >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - count)
        }
        return SOCKSIPv6Address(high: half(bits), low: half(bits - 64))
    }
}

extension SOCKSIPv6Address {
    /// The first `bits` bits, the rest zero.
    public func masked(toPrefix bits: Int) -> SOCKSIPv6Address {
        let mask = AddressPrefix.ipv6Mask(bits)
        return SOCKSIPv6Address(high: self.high & mask.high, low: self.low & mask.low)
    }
}

extension SOCKSHost {
    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries; any other host as is.
    public var unmapped: SOCKSHost {
        if case .ipv6(let address) = self, address.high == 0, address.low >> 32 == 0xFFFF {
            return .ipv4(UInt32(truncatingIfNeeded: address.low))
        }
        return self
    }
}
