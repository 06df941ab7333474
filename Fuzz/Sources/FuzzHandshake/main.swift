import NIOCore
import SOCKSCore

// The server's handshake fed as an arbitrary byte stream, split at arbitrary points.
//
// Input: one control byte, then the stream. Control bit 0 picks the listener's methods (none or RFC 1929),
// bit 1 whether credentials are accepted, the other bits seed the split points. Properties, beyond not
// crashing: the stream fed whole, byte by byte and in the seeded pieces gives the same actions and leaves
// the same bytes for the relay; a request that completes accepts a success or a failure reply.

/// Feeds `stream` in pieces of the given sizes; returns every action but "need more bytes", and the bytes
/// left behind a completed request (nil when none completed).
func transcript(_ stream: [UInt8], pieces: [Int], methods: [SOCKS5AuthMethod], credentialsOK: Bool) -> ([SOCKSServerHandshakeAction], [UInt8]?) {
    var machine = SOCKSServerHandshakeStateMachine(acceptedMethods: methods)
    var buffer = ByteBuffer()
    var actions: [SOCKSServerHandshakeAction] = []
    var offset = 0
    for size in pieces where offset < stream.count {
        let end = min(offset + max(size, 1), stream.count)
        buffer.writeBytes(stream[offset..<end])
        offset = end
        feeding: while true {
            let action = machine.receivedBytes(&buffer)
            switch action {
            case .needMoreBytes:
                break feeding
            case .send:
                actions.append(action)
            case .authenticate:
                actions.append(action)
                let response = credentialsOK ? machine.authenticationSucceeded() : machine.authenticationFailed()
                guard let response else { fatalError("no response to credentials") }
                actions.append(.send(response))
                if !credentialsOK { return (actions, nil) }
            case .sendAndClose, .close:
                actions.append(action)
                return (actions, nil)
            case .request(let request):
                actions.append(action)
                var rest = buffer
                rest.writeBytes(stream[offset...])
                // The machine must take exactly one outcome for the request.
                var succeeded = machine
                let endpoint = SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 1080)
                if request.command == .bind {
                    guard succeeded.bindListening(bound: endpoint) != nil else { fatalError("BIND first reply refused") }
                }
                guard succeeded.requestSucceeded(bound: endpoint) != nil else { fatalError("success reply refused") }
                guard machine.requestFailed(.connectionRefused) != nil else { fatalError("failure reply refused") }
                return (actions, Array(rest.readableBytesView))
            }
        }
    }
    return (actions, nil)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHandshake(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let control = bytes.first else { return 0 }
    let stream = Array(bytes.dropFirst())
    let methods: [SOCKS5AuthMethod] = control & 1 == 0 ? [.noAuthenticationRequired] : [.usernamePassword]
    let credentialsOK = control & 2 == 0
    let whole = transcript(stream, pieces: [max(stream.count, 1)], methods: methods, credentialsOK: credentialsOK)
    let single = transcript(stream, pieces: Array(repeating: 1, count: stream.count), methods: methods, credentialsOK: credentialsOK)
    var seed = UInt32(control >> 2) &+ 1
    var seeded: [Int] = []
    for _ in 0..<max(stream.count, 1) {
        seed = seed &* 1_103_515_245 &+ 12_345
        seeded.append(Int(seed >> 16) % 9 + 1)
    }
    let pieces = transcript(stream, pieces: seeded, methods: methods, credentialsOK: credentialsOK)
    guard whole.0 == single.0, whole.1 == single.1 else {
        fatalError("whole and byte-by-byte differ: \(whole) vs \(single)")
    }
    guard whole.0 == pieces.0, whole.1 == pieces.1 else {
        fatalError("whole and pieces \(seeded) differ: \(whole) vs \(pieces)")
    }
    return 0
}
