import SOCKSCore
import Testing

/// The one mapping from a failure cause to its wire codes.
@Suite struct FailureCauseTests {
    @Test(arguments: [
        (SOCKSFailureCause.generalFailure, 0x01 as UInt8),
        (.notAllowedByRuleset, 0x02),
        (.networkUnreachable, 0x03),
        (.hostUnreachable, 0x04),
        (.nameNotResolved, 0x04),
        (.connectTimeout, 0x04),
        (.connectionRefused, 0x05),
        (.ttlExpired, 0x06),
        (.commandNotSupported, 0x07),
        (.addressTypeNotSupported, 0x08),
        (.malformedRequest, 0x01),
        (.identdUnreachable, 0x01),
        (.identdMismatch, 0x01),
        (.acceptTimeout, 0x04),
        (.unexpectedPeer, 0x02),
    ])
    func socks5Codes(cause: SOCKSFailureCause, code: UInt8) {
        #expect(cause.socks5ReplyCode.rawValue == code)
    }

    @Test func socks4Codes() {
        for cause in SOCKSFailureCause.allCases {
            switch cause {
            case .identdUnreachable: #expect(cause.socks4ReplyCode.rawValue == 0x5C)
            case .identdMismatch: #expect(cause.socks4ReplyCode.rawValue == 0x5D)
            default: #expect(cause.socks4ReplyCode.rawValue == 0x5B, "\(cause)")
            }
        }
    }
}
