import NIOCore
import NIOPosix
import SOCKSCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SOCKSFailureCause {
    /// Classifies a failed dial: the errno of the connect, a timeout, or a name that did not resolve.
    public init(connectError error: any Error) {
        switch error {
        case let error as NIOConnectionError:
            // Happy eyeballs: the first connection attempt's error says the most; no attempt at all means the
            // name gave no address.
            if let first = error.connectionErrors.first {
                self.init(connectError: first.error)
            } else {
                self = .nameNotResolved
            }
        case is DestinationDenied:
            self = .notAllowedByRuleset
        case is ResolutionError, is SocketAddressError.UnknownHost:
            self = .nameNotResolved
        case ChannelError.connectTimeout:
            self = .connectTimeout
        case let error as IOError:
            self.init(errno: error.errnoCode)
        default:
            self = .generalFailure
        }
    }

    /// The cause behind a connect(2) errno.
    public init(errno: CInt) {
        switch errno {
        case ECONNREFUSED:
            self = .connectionRefused
        case ENETUNREACH, ENETDOWN:
            self = .networkUnreachable
        case EHOSTUNREACH, EHOSTDOWN:
            self = .hostUnreachable
        case ETIMEDOUT:
            self = .connectTimeout
        case EAFNOSUPPORT, EPROTONOSUPPORT:
            self = .addressTypeNotSupported
        default:
            self = .generalFailure
        }
    }
}
