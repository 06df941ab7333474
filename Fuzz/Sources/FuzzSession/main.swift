@testable import CalzinoServer
import NIOCore
import SOCKSCore

// The session state machine under arbitrary sequences of events: bytes in pieces (fed only while the
// machine lets reads through, as NIO does), reads asked for, EOF, errors, the close, the deadline, and every
// step's completion in any order and any state, early, late or twice.
//
// Input: one control byte (bit 0: the listener takes RFC 1929; bit 1: it checks ident), then events, each a
// byte whose value picks the event and, for bytes, a length byte and the bytes. Properties, beyond not
// crashing: at most one final reply (relay, association or failure) and at most one BIND first reply; the
// session ends (`sessionEnded`) at most once, and after it nothing but `.none` or `.discardLateResult`
// comes; bytes kept for the relay stay within the read bound (no unbounded buffering before the relay,
// issue 12, defect 2).

struct Run {
    var machine: SessionStateMachine
    var finalReplies = 0
    var firstReplies = 0
    var ended = false
    var readAllowed = true

    init(control: UInt8) {
        let methods: [SOCKS5AuthMethod] = control & 1 == 0 ? [.noAuthenticationRequired] : [.usernamePassword]
        self.machine = SessionStateMachine(acceptedMethods: methods, checksIdent: control & 2 != 0)
    }

    /// Carries out what the handler does by itself after an action, then checks the properties.
    mutating func take(_ first: SessionStateMachine.Action) {
        var action = first
        while true {
            if self.ended, action != .none, action != .discardLateResult {
                fatalError("\(action) after the session ended")
            }
            switch action {
            case .send, .authenticated:
                action = self.machine.parseBuffered()
                continue
            case .requestReceived:
                action = self.machine.carryOut()
                continue
            case .startRelay, .startAssociation, .failAndLinger:
                self.finalReplies += 1
            case .awaitPeer:
                self.firstReplies += 1
            case .sessionEnded:
                self.ended = true
            case .none, .authenticate, .checkIdent, .admit, .connect, .openBindListener, .openAssociation, .close, .discardLateResult:
                break
            }
            break
        }
        guard self.finalReplies <= 1, self.firstReplies <= 1 else {
            fatalError("replies: \(self.finalReplies) final, \(self.firstReplies) first")
        }
        let kept = self.machine.buffer?.readableBytes ?? 0
        guard kept <= SessionStateMachine.pipelinedBytesBeforeHoldingReads + 256 else {
            fatalError("\(kept) bytes kept in \(self.machine.state)")
        }
    }

    static let endpoint = SOCKSEndpoint(host: .ipv4(0x7F00_0001), port: 1080)
    static let failure = SessionFailure.setupFailed(detail: "fuzz")

    mutating func event(_ code: UInt8, _ input: inout ArraySlice<UInt8>) {
        switch code % 20 {
        case 0, 1, 2:
            // A read burst: only while reading is let through.
            let length = Int(input.popFirst() ?? 0)
            let bytes = input.prefix(length)
            input = input.dropFirst(bytes.count)
            guard self.readAllowed, !self.ended else { return }
            var buffer = ByteBuffer(bytes: bytes)
            self.machine.receivedBytes(&buffer)
            self.take(self.machine.parseBuffered())
        case 3: self.readAllowed = self.machine.readRequested()
        case 4: self.take(self.machine.inputClosed())
        case 5: self.take(self.machine.connectionFailed("fuzz"))
        case 6:
            self.take(self.machine.channelClosed())
            self.readAllowed = false
        case 7: self.take(self.machine.deadlinePassed())
        case 8: self.take(self.machine.carryOut())
        case 9: self.take(self.machine.admissionDecided(code & 32 == 0 ? .admitted : .refused(.notAllowedByRuleset, .denied(.defaultAction))))
        case 10: self.take(self.machine.completed(.authenticationFinished(code & 32 == 0 ? .accepted(user: "u") : .rejected(.generalFailure, .authenticationFailed))))
        case 11: self.take(self.machine.completed(.identFinished(code & 32 == 0 ? .accepted(user: nil) : .rejected(.identdMismatch, .ident(.noAnswer)))))
        case 12: self.take(self.machine.completed(.dialSucceeded(bound: Self.endpoint)))
        case 13: self.take(self.machine.completed(.dialFailed(.connectionRefused, Self.failure)))
        case 14: self.take(self.machine.completed(.bindListening(bound: Self.endpoint)))
        case 15: self.take(self.machine.completed(.bindPeerArrived(Self.endpoint)))
        case 16: self.take(self.machine.completed(.bindPeerRefused(.unexpectedPeer, Self.failure)))
        case 17: self.take(self.machine.completed(.associationOpened(bound: Self.endpoint)))
        case 18: self.take(self.machine.completed(.setupFailed(.generalFailure, Self.failure)))
        default:
            if code & 32 == 0 {
                self.take(self.machine.associationIdle())
            } else {
                self.machine.relayStarted()
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSession(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = ArraySlice(UnsafeRawBufferPointer(start: start, count: count))
    guard let control = input.popFirst() else { return 0 }
    var run = Run(control: control)
    while let code = input.popFirst() {
        run.event(code, &input)
    }
    return 0
}
