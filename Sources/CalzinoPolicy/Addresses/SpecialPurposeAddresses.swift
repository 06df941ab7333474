import SOCKSCore

/// Which classes each special-purpose block of addresses belongs to: every entry of IANA's IPv4 and IPv6
/// Special-Purpose Address Registries (iana-ipv4-special-registry, iana-ipv6-special-registry, as of
/// 2026), the multicast blocks, the deprecated IPv6 forms that still parse, and the cloud metadata
/// endpoints. The most specific block that holds an address decides; an address outside every block is
/// `global`. A block that embeds an IPv4 address adds that address's classes (the stricter wins).
enum SpecialPurposeAddresses {
    struct IPv4Block {
        var network: UInt32
        var prefix: Int
        var classes: AddressClasses
    }

    /// Where an IPv6 block carries an IPv4 address.
    enum Embedding {
        /// The last 32 bits (IPv4-mapped, -compatible, -translated; NAT64 with a /96 prefix).
        case last32
        /// RFC 6052 §2.2: the local-use NAT64 prefix may be used at /48, /56, /64 or /96, and the address does
        /// not say which: all four readings count (except 0.0.0.0, what the zero padding reads as). Over-strict
        /// at worst, and the block is private anyway.
        case rfc6052AnyLength
        /// RFC 3056 §2: 2002:V4ADDR::/48.
        case sixToFour
        /// RFC 4380 §4: the Teredo server (bits 32-63) and the client, bit-inverted (bits 96-127).
        case teredo
    }

    struct IPv6Block {
        var high: UInt64
        var low: UInt64
        var prefix: Int
        var classes: AddressClasses
        var embedding: Embedding?
    }

    static func classes(ofIPv4 address: UInt32) -> AddressClasses {
        var best: IPv4Block?
        for block in self.ipv4 where block.prefix > (best?.prefix ?? -1) && Self.within(address, block) {
            best = block
        }
        return best?.classes ?? AddressClasses(.global)
    }

    static func classes(ofIPv6 address: SOCKSIPv6Address) -> AddressClasses {
        var best: IPv6Block?
        for block in self.ipv6 where block.prefix > (best?.prefix ?? -1) && Self.within(address, block) {
            best = block
        }
        guard let block = best else { return AddressClasses(.global) }
        guard let embedding = block.embedding else { return block.classes }
        var embedded = AddressClasses()
        for ipv4 in Self.embeddedIPv4(address, embedding) {
            embedded.formUnion(self.classes(ofIPv4: ipv4))
        }
        return block.classes.embedding(embedded)
    }

    static func embeddedIPv4(_ address: SOCKSIPv6Address, _ embedding: Embedding) -> [UInt32] {
        let high = address.high, low = address.low
        switch embedding {
        case .last32:
            return [UInt32(truncatingIfNeeded: low)]
        case .rfc6052AnyLength:
            // Bits 64-71 are the reserved "u" octet, which RFC 6052 skips.
            let at48 = UInt32(truncatingIfNeeded: (high & 0xFFFF) << 16 | (low >> 40) & 0xFFFF)
            let at56 = UInt32(truncatingIfNeeded: (high & 0xFF) << 24 | (low >> 32) & 0xFF_FFFF)
            let at64 = UInt32(truncatingIfNeeded: low >> 24)
            return [at48, at56, at64, UInt32(truncatingIfNeeded: low)].filter { $0 != 0 }
        case .sixToFour:
            return [UInt32(truncatingIfNeeded: high >> 16)]
        case .teredo:
            return [UInt32(truncatingIfNeeded: high), ~UInt32(truncatingIfNeeded: low)]
        }
    }

    private static func within(_ address: UInt32, _ block: IPv4Block) -> Bool {
        let mask = AddressPrefix.ipv4Mask(block.prefix)
        return address & mask == block.network & mask
    }

    private static func within(_ address: SOCKSIPv6Address, _ block: IPv6Block) -> Bool {
        address.masked(toPrefix: block.prefix) == SOCKSIPv6Address(high: block.high, low: block.low).masked(toPrefix: block.prefix)
    }

    private static func v4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ prefix: Int, _ classes: [AddressClass]) -> IPv4Block {
        IPv4Block(network: a << 24 | b << 16 | c << 8 | d, prefix: prefix, classes: AddressClasses(classes))
    }

    private static func v6(_ high: UInt64, _ low: UInt64, _ prefix: Int, _ classes: [AddressClass], embedding: Embedding? = nil) -> IPv6Block {
        IPv6Block(high: high, low: low, prefix: prefix, classes: AddressClasses(classes), embedding: embedding)
    }

    static let ipv4: [IPv4Block] = [
        // IANA IPv4 Special-Purpose Address Registry.
        v4(0, 0, 0, 0, 8, [.unspecified]),  // "this network", RFC 791 §3.2
        v4(0, 0, 0, 0, 32, [.unspecified, .loopback]),  // "this host", RFC 1122 §3.2.1.3: a connect to it reaches this host
        v4(10, 0, 0, 0, 8, [.private]),  // RFC 1918
        v4(100, 64, 0, 0, 10, [.private]),  // shared address space (carrier-grade NAT), RFC 6598
        v4(127, 0, 0, 0, 8, [.loopback]),  // RFC 1122 §3.2.1.3
        v4(169, 254, 0, 0, 16, [.linkLocal]),  // RFC 3927
        v4(172, 16, 0, 0, 12, [.private]),  // RFC 1918
        v4(192, 0, 0, 0, 24, [.reserved]),  // IETF protocol assignments, RFC 6890 §2.1 (with DS-Lite 192.0.0.0/29
        //                                    RFC 7335, the dummy address 192.0.0.8 RFC 7600, NAT64 discovery
        //                                    192.0.0.170-171 RFC 8880)
        v4(192, 0, 0, 9, 32, [.global]),  // PCP anycast, RFC 7723: globally reachable
        v4(192, 0, 0, 10, 32, [.global]),  // TURN anycast, RFC 8155: globally reachable
        v4(192, 0, 2, 0, 24, [.reserved]),  // documentation TEST-NET-1, RFC 5737
        v4(192, 88, 99, 0, 24, [.reserved]),  // deprecated 6to4 relay anycast, RFC 7526
        v4(192, 168, 0, 0, 16, [.private]),  // RFC 1918
        v4(198, 18, 0, 0, 15, [.reserved]),  // benchmarking, RFC 2544
        v4(198, 51, 100, 0, 24, [.reserved]),  // documentation TEST-NET-2, RFC 5737
        v4(203, 0, 113, 0, 24, [.reserved]),  // documentation TEST-NET-3, RFC 5737
        v4(240, 0, 0, 0, 4, [.reserved]),  // reserved for future use, RFC 1112 §4
        v4(255, 255, 255, 255, 32, [.reserved]),  // limited broadcast, RFC 8190, RFC 919 §7
        // AS112 (192.31.196.0/24, 192.175.48.0/24) and AMT (192.52.193.0/24) are globally reachable: no entry.
        // IANA IPv4 Multicast Address Space Registry, RFC 5771.
        v4(224, 0, 0, 0, 4, [.multicast]),
        // Cloud metadata services (each cloud's documentation).
        v4(169, 254, 169, 254, 32, [.metadata, .linkLocal]),  // AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean, Hetzner...
        v4(169, 254, 170, 2, 32, [.metadata, .linkLocal]),  // AWS ECS task metadata and credentials
        v4(169, 254, 170, 23, 32, [.metadata, .linkLocal]),  // AWS EKS Pod Identity agent
        v4(169, 254, 0, 23, 32, [.metadata, .linkLocal]),  // Tencent Cloud (metadata.tencentyun.com)
        v4(100, 100, 100, 200, 32, [.metadata, .private]),  // Alibaba Cloud
        v4(168, 63, 129, 16, 32, [.metadata]),  // Azure WireServer (platform agent, DNS, health probes)
        v4(192, 0, 0, 192, 32, [.metadata, .reserved]),  // Oracle Cloud Infrastructure (legacy metadata)
    ]

    static let ipv6: [IPv6Block] = [
        // IANA IPv6 Special-Purpose Address Registry.
        v6(0, 0, 128, [.unspecified, .loopback]),  // ::, RFC 4291: a connect to it reaches this host
        v6(0, 1, 128, [.loopback]),  // ::1, RFC 4291
        v6(0, 0xFFFF_0000_0000, 96, [], embedding: .last32),  // IPv4-mapped, RFC 4291: exactly its IPv4 address
        v6(0x0064_FF9B_0000_0000, 0, 96, [.global], embedding: .last32),  // NAT64 well-known prefix, RFC 6052
        v6(0x0064_FF9B_0001_0000, 0, 48, [.private], embedding: .rfc6052AnyLength),  // local-use NAT64, RFC 8215
        v6(0x0100_0000_0000_0000, 0, 64, [.reserved]),  // discard-only, RFC 6666
        v6(0x0100_0000_0000_0001, 0, 64, [.reserved]),  // dummy IPv6 prefix, RFC 9780
        v6(0x2001_0000_0000_0000, 0, 23, [.reserved]),  // IETF protocol assignments, RFC 2928
        v6(0x2001_0000_0000_0000, 0, 32, [.global], embedding: .teredo),  // Teredo, RFC 4380, RFC 8190
        v6(0x2001_0001_0000_0000, 1, 128, [.global]),  // PCP anycast, RFC 7723
        v6(0x2001_0001_0000_0000, 2, 128, [.global]),  // TURN anycast, RFC 8155
        v6(0x2001_0001_0000_0000, 3, 128, [.global]),  // DNS-SD SRP anycast, RFC 9665
        v6(0x2001_0002_0000_0000, 0, 48, [.reserved]),  // benchmarking, RFC 5180
        v6(0x2001_0003_0000_0000, 0, 32, [.global]),  // AMT, RFC 7450
        v6(0x2001_0004_0112_0000, 0, 48, [.global]),  // AS112-v6, RFC 7535
        v6(0x2001_0010_0000_0000, 0, 28, [.reserved]),  // deprecated ORCHID, RFC 4843
        v6(0x2001_0020_0000_0000, 0, 28, [.global]),  // ORCHIDv2, RFC 7343
        v6(0x2001_0030_0000_0000, 0, 28, [.global]),  // drone remote ID entity tags, RFC 9374
        v6(0x2001_0DB8_0000_0000, 0, 32, [.reserved]),  // documentation, RFC 3849
        v6(0x2002_0000_0000_0000, 0, 16, [.global], embedding: .sixToFour),  // 6to4, RFC 3056
        v6(0x3FFF_0000_0000_0000, 0, 20, [.reserved]),  // documentation, RFC 9637
        v6(0x5F00_0000_0000_0000, 0, 16, [.reserved]),  // SRv6 SIDs, RFC 9602
        v6(0xFC00_0000_0000_0000, 0, 7, [.private]),  // unique local, RFC 4193
        v6(0xFE80_0000_0000_0000, 0, 10, [.linkLocal]),  // link-local unicast, RFC 4291
        // Deprecated forms outside the registry that the stack still parses.
        v6(0, 0, 96, [.reserved], embedding: .last32),  // IPv4-compatible ::a.b.c.d, RFC 4291 §2.5.5.1
        v6(0, 0xFFFF_0000_0000_0000, 96, [.reserved], embedding: .last32),  // IPv4-translated ::ffff:0:a.b.c.d, RFC 2765
        v6(0xFEC0_0000_0000_0000, 0, 10, [.private]),  // site-local, RFC 3879
        // RFC 4291 §2.7.
        v6(0xFF00_0000_0000_0000, 0, 8, [.multicast]),
        // Cloud metadata services.
        v6(0xFD00_0EC2_0000_0000, 0x254, 128, [.metadata, .private]),  // AWS IMDS over IPv6
        v6(0xFD00_0EC2_0000_0000, 0x23, 128, [.metadata, .private]),  // AWS EKS Pod Identity agent over IPv6
        v6(0xFD20_00CE_0000_0000, 0x254, 128, [.metadata, .private]),  // GCP metadata server over IPv6
    ]
}
