import NIOCore

/// The server side of a SOCKS4, SOCKS4a or SOCKS5 handshake, from the first byte to the request, and the
/// reply that ends it. Pure: it sees bytes and outcomes and returns what to send; it never touches a socket.
public struct SOCKSServerHandshakeStateMachine: Sendable {
    private enum State: Hashable, Sendable {
        case awaitingVersion
        case awaitingSOCKS4Request
        case awaitingSOCKS5Greeting
        case awaitingSOCKS5Credentials
        case authenticating
        case awaitingSOCKS5Request
        case awaitingOutcome(SOCKSClientRequest.Version)
        /// BIND: the first reply is out; the second waits for the peer.
        case awaitingBindPeer(SOCKSClientRequest.Version)
        case established
        case failed
    }

    private var state: State = .awaitingVersion
    private let acceptedMethods: [SOCKS5AuthMethod]
    private let acceptsSOCKS4: Bool

    /// - Parameters:
    ///   - acceptedMethods: the SOCKS5 methods this listener accepts, most preferred first.
    ///   - acceptsSOCKS4: whether SOCKS4/4a requests are parsed and handed on (false: refused at once with
    ///     0x5B). Calzino's server leaves it true and decides by its rules, which may admit SOCKS4 on a
    ///     listener with users; an embedder without rules can refuse SOCKS4 here.
    public init(acceptedMethods: [SOCKS5AuthMethod] = [.noAuthenticationRequired], acceptsSOCKS4: Bool = true) {
        self.acceptedMethods = acceptedMethods
        self.acceptsSOCKS4 = acceptsSOCKS4
    }

    /// Whether the request has been read and the rest of the stream belongs to the relay (or to nobody).
    public var isRequestComplete: Bool {
        switch self.state {
        case .awaitingVersion, .awaitingSOCKS4Request, .awaitingSOCKS5Greeting, .awaitingSOCKS5Credentials, .authenticating, .awaitingSOCKS5Request:
            return false
        case .awaitingOutcome, .awaitingBindPeer, .established, .failed:
            return true
        }
    }

    /// Feeds the bytes received so far. Consumes exactly the bytes of the messages it returns; call it again
    /// after `.send` to parse what follows.
    public mutating func receivedBytes(_ buffer: inout ByteBuffer) -> SOCKSServerHandshakeAction {
        switch self.state {
        case .awaitingVersion:
            guard let version = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
                return .needMoreBytes
            }
            switch version {
            case 0x04:
                self.state = .awaitingSOCKS4Request
            case 0x05:
                self.state = .awaitingSOCKS5Greeting
            default:
                self.state = .failed
                return .close(SOCKSProtocolError(.unknownVersion, "first byte 0x\(String(version, radix: 16))"))
            }
            return self.receivedBytes(&buffer)

        case .awaitingSOCKS4Request:
            do {
                guard let request = try buffer.readSOCKS4Request() else { return .needMoreBytes }
                guard self.acceptsSOCKS4 else {
                    self.state = .failed
                    let cause = SOCKSFailureCause.notAllowedByRuleset
                    return .sendAndClose(.socks4Reply(SOCKS4Reply(code: cause.socks4ReplyCode)), cause: cause)
                }
                let clientRequest = SOCKSClientRequest(request)
                self.state = .awaitingOutcome(clientRequest.version)
                return .request(clientRequest)
            } catch {
                self.state = .failed
                let reply = SOCKS4Reply(code: SOCKSFailureCause.malformedRequest.socks4ReplyCode)
                return .sendAndClose(.socks4Reply(reply), cause: .malformedRequest)
            }

        case .awaitingSOCKS5Greeting:
            do {
                guard let choice = try buffer.readSOCKS5GreetingSelecting(from: self.acceptedMethods) else {
                    return .needMoreBytes
                }
                guard let method = choice else {
                    self.state = .failed
                    let selection = SOCKS5MethodSelection(method: .noAcceptableMethods)
                    return .sendAndClose(.socks5MethodSelection(selection), cause: .notAllowedByRuleset)
                }
                self.state = method == .usernamePassword ? .awaitingSOCKS5Credentials : .awaitingSOCKS5Request
                return .send(.socks5MethodSelection(SOCKS5MethodSelection(method: method)))
            } catch {
                // Unreachable in practice: the version byte was checked when it was sniffed.
                self.state = .failed
                return .close(error as? SOCKSProtocolError ?? SOCKSProtocolError(.invalidVersion, "\(error)"))
            }

        case .awaitingSOCKS5Credentials:
            do {
                guard let credentials = try buffer.readSOCKS5UsernamePasswordRequest() else { return .needMoreBytes }
                self.state = .authenticating
                return .authenticate(credentials)
            } catch {
                self.state = .failed
                return .sendAndClose(.usernamePasswordResponse(.failure), cause: .malformedRequest)
            }

        case .authenticating:
            // The request may be pipelined behind the credentials; it waits for the verdict.
            return .needMoreBytes

        case .awaitingSOCKS5Request:
            do {
                guard let request = try buffer.readSOCKS5Request() else { return .needMoreBytes }
                self.state = .awaitingOutcome(.socks5)
                return .request(SOCKSClientRequest(request))
            } catch let error as SOCKSProtocolError where error.code == .unsupportedAddressType {
                self.state = .failed
                let cause = SOCKSFailureCause.addressTypeNotSupported
                return .sendAndClose(.socks5Reply(SOCKS5Reply(code: cause.socks5ReplyCode)), cause: cause)
            } catch {
                self.state = .failed
                let cause = SOCKSFailureCause.malformedRequest
                return .sendAndClose(.socks5Reply(SOCKS5Reply(code: cause.socks5ReplyCode)), cause: cause)
            }

        case .awaitingOutcome, .awaitingBindPeer, .established, .failed:
            // The bytes are no longer the handshake's; they stay in the buffer for the relay.
            return .needMoreBytes
        }
    }

    /// The credentials are right: returns the success response; the request comes next.
    public mutating func authenticationSucceeded() -> SOCKSServerMessage? {
        guard case .authenticating = self.state else { return nil }
        self.state = .awaitingSOCKS5Request
        return .usernamePasswordResponse(.success)
    }

    /// The credentials are wrong: returns the failure response, to send before closing (RFC 1929).
    public mutating func authenticationFailed() -> SOCKSServerMessage? {
        guard case .authenticating = self.state else { return nil }
        self.state = .failed
        return .usernamePasswordResponse(.failure)
    }

    /// BIND: the listener is open; returns the first reply, naming where it listens. The second reply
    /// comes from `requestSucceeded` (naming the peer) or `requestFailed`.
    public mutating func bindListening(bound: SOCKSEndpoint) -> SOCKSServerMessage? {
        guard case .awaitingOutcome(let version) = self.state else { return nil }
        self.state = .awaitingBindPeer(version)
        return Self.success(version, bound: bound)
    }

    /// The request was carried out; returns the success reply naming `bound` (for BIND, the peer that
    /// connected). `nil` if no request is waiting for an outcome (a handler bug, reported instead of
    /// trapping).
    public mutating func requestSucceeded(bound: SOCKSEndpoint) -> SOCKSServerMessage? {
        guard let version = self.pendingVersion else { return nil }
        self.state = .established
        return Self.success(version, bound: bound)
    }

    /// The request failed; returns the failure reply to send before closing. `nil` if no request is
    /// waiting for an outcome.
    public mutating func requestFailed(_ cause: SOCKSFailureCause) -> SOCKSServerMessage? {
        guard let version = self.pendingVersion else { return nil }
        self.state = .failed
        switch version {
        case .socks4, .socks4a:
            return .socks4Reply(SOCKS4Reply(code: cause.socks4ReplyCode))
        case .socks5:
            return .socks5Reply(SOCKS5Reply(code: cause.socks5ReplyCode))
        }
    }

    private var pendingVersion: SOCKSClientRequest.Version? {
        switch self.state {
        case .awaitingOutcome(let version), .awaitingBindPeer(let version):
            return version
        case .awaitingVersion, .awaitingSOCKS4Request, .awaitingSOCKS5Greeting, .awaitingSOCKS5Credentials, .authenticating,
            .awaitingSOCKS5Request, .established, .failed:
            return nil
        }
    }

    private static func success(_ version: SOCKSClientRequest.Version, bound: SOCKSEndpoint) -> SOCKSServerMessage {
        switch version {
        case .socks4, .socks4a:
            return .socks4Reply(SOCKS4Reply(code: .granted, bound: bound))
        case .socks5:
            return .socks5Reply(SOCKS5Reply(code: .succeeded, bound: bound))
        }
    }
}
