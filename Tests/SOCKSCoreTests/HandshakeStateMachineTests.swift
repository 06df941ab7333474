import NIOCore
import SOCKSCore
import Testing

@Suite struct HandshakeStateMachineTests {
    static let socks5Connect: [UInt8] = [5, 1, 0, 3, 9] + Array("localhost".utf8) + [0x1F, 0x90]

    /// Feeds `bytes` in pieces of `chunk` bytes and collects every action until the request or a close.
    func run(_ bytes: [UInt8], chunk: Int, machine: inout SOCKSServerHandshakeStateMachine) -> (actions: [SOCKSServerHandshakeAction], rest: ByteBuffer) {
        var actions: [SOCKSServerHandshakeAction] = []
        var buffer = ByteBuffer()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            loop: while true {
                let action = machine.receivedBytes(&buffer)
                switch action {
                case .needMoreBytes:
                    break loop
                case .send:
                    actions.append(action)
                case .sendAndClose, .close, .request, .authenticate:
                    actions.append(action)
                    buffer.writeBytes(bytes[offset...])
                    return (actions, buffer)
                }
            }
        }
        return (actions, buffer)
    }

    @Test(arguments: [1, 2, 3, 1000])
    func socks5GreetingAndPipelinedRequestAndPayload(chunk: Int) {
        var machine = SOCKSServerHandshakeStateMachine()
        let payload = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        let (actions, rest) = run([5, 1, 0] + Self.socks5Connect + payload, chunk: chunk, machine: &machine)
        #expect(actions == [
            .send(.socks5MethodSelection(SOCKS5MethodSelection(method: .noAuthenticationRequired))),
            .request(SOCKSClientRequest(version: .socks5, command: .connect, destination: SOCKSEndpoint(host: .name("localhost"), port: 8080))),
        ])
        #expect(Array(rest.readableBytesView) == payload)
        #expect(machine.isRequestComplete)
        let reply = machine.requestSucceeded(bound: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 40000))
        #expect(reply == .socks5Reply(SOCKS5Reply(code: .succeeded, bound: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 40000))))
        #expect(machine.requestFailed(.generalFailure) == nil, "a second outcome is refused")
    }

    @Test func greetingWithNoMethodsIsRefused() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 0], chunk: 10, machine: &machine)
        #expect(actions == [.sendAndClose(.socks5MethodSelection(SOCKS5MethodSelection(method: .noAcceptableMethods)), cause: .notAllowedByRuleset)])
    }

    @Test func greetingWithoutAcceptableMethodIsRefused() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 2, 1, 2], chunk: 10, machine: &machine)
        #expect(actions == [.sendAndClose(.socks5MethodSelection(SOCKS5MethodSelection(method: .noAcceptableMethods)), cause: .notAllowedByRuleset)])
    }

    @Test func maximumMethodList() {
        var machine = SOCKSServerHandshakeStateMachine()
        let methods = (0...254).map { UInt8(254 - $0) }  // 255 methods, 0x00 last
        let (actions, _) = run([5, 255] + methods, chunk: 7, machine: &machine)
        #expect(actions == [.send(.socks5MethodSelection(SOCKS5MethodSelection(method: .noAuthenticationRequired)))])
    }

    @Test(arguments: [0x06 as UInt8, 0x47, 0x16, 0x00])
    func unknownFirstByteCloses(first: UInt8) {
        var machine = SOCKSServerHandshakeStateMachine()
        var buffer = ByteBuffer(bytes: [first, 1, 2, 3])
        guard case .close(let error) = machine.receivedBytes(&buffer) else {
            Issue.record("expected a close")
            return
        }
        #expect(error.code == .unknownVersion)
    }

    @Test func socks4RequestAndReplies() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, rest) = run([4, 1, 0, 80, 127, 0, 0, 1, 0x41, 0, 0xAA], chunk: 1, machine: &machine)
        #expect(actions == [.request(SOCKSClientRequest(version: .socks4, command: .connect, destination: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 80), userID: "A"))])
        #expect(Array(rest.readableBytesView) == [0xAA])
        #expect(machine.requestFailed(.connectionRefused) == .socks4Reply(SOCKS4Reply(code: .rejectedOrFailed)))
    }

    @Test func socks4aRequestGranted() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([4, 1, 0, 80, 0, 0, 0, 1, 0] + Array("host".utf8) + [0], chunk: 3, machine: &machine)
        #expect(actions == [.request(SOCKSClientRequest(version: .socks4a, command: .connect, destination: SOCKSEndpoint(host: .name("host"), port: 80), userID: ""))])
        #expect(machine.requestSucceeded(bound: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 9)) == .socks4Reply(SOCKS4Reply(code: .granted, port: 9, address: 0x7F00_0001)))
    }

    @Test func unknownAddressTypeGetsReply08() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80], chunk: 100, machine: &machine)
        #expect(actions.last == .sendAndClose(.socks5Reply(SOCKS5Reply(code: .addressTypeNotSupported)), cause: .addressTypeNotSupported))
    }

    @Test func emptyDomainGetsGeneralFailure() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 1, 0, 5, 1, 0, 3, 0, 0, 80], chunk: 100, machine: &machine)
        #expect(actions.last == .sendAndClose(.socks5Reply(SOCKS5Reply(code: .generalFailure)), cause: .malformedRequest))
    }

    @Test func socks4UserIDTooLongGets5B() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([4, 1, 0, 80, 127, 0, 0, 1] + [UInt8](repeating: 0x41, count: 300), chunk: 64, machine: &machine)
        #expect(actions == [.sendAndClose(.socks4Reply(SOCKS4Reply(code: .rejectedOrFailed)), cause: .malformedRequest)])
    }

    @Test func unknownCommandIsHandedToTheServer() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 1, 0, 5, 9, 0, 1, 1, 2, 3, 4, 0, 80], chunk: 100, machine: &machine)
        #expect(actions.last == .request(SOCKSClientRequest(version: .socks5, command: .unknown(9), destination: SOCKSEndpoint(host: .ipv4(0x0102_0304), port: 80))))
        #expect(machine.requestFailed(.commandNotSupported) == .socks5Reply(SOCKS5Reply(code: .commandNotSupported)))
    }
}

extension HandshakeStateMachineTests {
    @Test func bindHasTwoReplies() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([5, 1, 0, 5, 2, 0, 1, 10, 0, 0, 7, 0, 21], chunk: 100, machine: &machine)
        #expect(actions.last == .request(SOCKSClientRequest(version: .socks5, command: .bind, destination: SOCKSEndpoint(host: .ipv4(0x0A00_0007), port: 21))))
        let listening = SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 4000)
        #expect(machine.bindListening(bound: listening) == .socks5Reply(SOCKS5Reply(code: .succeeded, bound: listening)))
        #expect(machine.bindListening(bound: listening) == nil, "only one first reply")
        let peer = SOCKSEndpoint(host: .ipv4(0x0A00_0007), port: 5555)
        #expect(machine.requestSucceeded(bound: peer) == .socks5Reply(SOCKS5Reply(code: .succeeded, bound: peer)))
    }

    @Test func socks4BindFailsAfterItsFirstReply() {
        var machine = SOCKSServerHandshakeStateMachine()
        let (actions, _) = run([4, 2, 0, 21, 10, 0, 0, 7, 0], chunk: 100, machine: &machine)
        #expect(actions.count == 1)
        #expect(machine.bindListening(bound: SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 4000)) == .socks4Reply(SOCKS4Reply(code: .granted, port: 4000, address: 0x7F00_0001)))
        #expect(machine.requestFailed(.acceptTimeout) == .socks4Reply(SOCKS4Reply(code: .rejectedOrFailed)))
    }
}
