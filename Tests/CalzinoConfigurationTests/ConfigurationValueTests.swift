import CalzinoConfiguration
import CalzinoServer
import NIOCore
import SOCKSCore
import Glibc
import CalzinoTestSupport
import Testing

@Suite struct ConfigurationValueTests {
    @Test func listenAddresses() throws {
        #expect(try ListenAddress.parse("127.0.0.1:1080") == [try SocketAddress(ipAddress: "127.0.0.1", port: 1080)])
        #expect(try ListenAddress.parse("[::1]:9") == [try SocketAddress(ipAddress: "::1", port: 9)])
        #expect(try ListenAddress.parse("0.0.0.0:0") == [try SocketAddress(ipAddress: "0.0.0.0", port: 0)])
        #expect(try ListenAddress.parse("localhost:1080").count == 2)
    }

    @Test(arguments: ["1080", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "::1:1080", "example.com:1080", "[::1]:", ":", "", "1.2.3.4:99999999999999999999"])
    func badListenAddresses(text: String) {
        #expect(throws: ConfigurationValueError.self) { try ListenAddress.parse(text) }
    }

    @Test func durations() throws {
        #expect(try DurationValue.parse("10") == .seconds(10))
        #expect(try DurationValue.parse("2.5s") == .milliseconds(2500))
        #expect(try DurationValue.parse("500ms") == .milliseconds(500))
        #expect(try DurationValue.parse("5m") == .minutes(5))
        #expect(try DurationValue.parse("1h") == .hours(1))
        #expect(try DurationValue.parse("0") == .zero)
    }

    @Test(arguments: ["", "s", "-1s", "ten", "1e400", "nan", "inf", "31d", "9999999999h", "1.0e309ms"])
    func badDurations(text: String) {
        #expect(throws: ConfigurationValueError.self) { try DurationValue.parse(text) }
    }

    @Test func connectErrorsMapToCauses() {
        #expect(SOCKSFailureCause(errno: ECONNREFUSED) == .connectionRefused)
        #expect(SOCKSFailureCause(errno: ENETUNREACH) == .networkUnreachable)
        #expect(SOCKSFailureCause(errno: EHOSTUNREACH) == .hostUnreachable)
        #expect(SOCKSFailureCause(errno: ETIMEDOUT) == .connectTimeout)
        #expect(SOCKSFailureCause(errno: EPERM) == .generalFailure)
        #expect(SOCKSFailureCause(connectError: ChannelError.connectTimeout(.seconds(1))) == .connectTimeout)
        #expect(SOCKSFailureCause(connectError: ResolutionError(name: "x")) == .nameNotResolved)
        #expect(SOCKSFailureCause(connectError: IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .connectionRefused)
    }
}
