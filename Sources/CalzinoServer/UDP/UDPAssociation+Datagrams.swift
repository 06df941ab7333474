import CalzinoPolicy
import NIOCore
import NIOPosix
import SOCKSCore

// MARK: Datagrams: the gate, the policy, the buckets, the replies

extension UDPAssociation {
    func fromClient(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !self.closed else { return }
        let verdict = self.gate.admit(envelope.data, from: envelope.remoteAddress)
        if case .foreign = verdict {
            self.counters.drop(.foreign)
            return
        }
        // The client's own datagram, good or not: replies go where it last came from.
        self.clientAddress = envelope.remoteAddress
        switch verdict {
        case .foreign:
            break
        case .malformed:
            self.counters.drop(.malformed)
        case .fragment:
            self.counters.drop(.fragment)
        case .forward(let destination, let payload):
            self.activity &+= 1
            if let address = destination.socketAddress {
                self.send(payload, to: address)
            } else if case .name(let name) = destination.host {
                self.send(payload, toName: name, port: Int(destination.port))
            }
        }
    }

    func fromTarget(_ envelope: AddressedEnvelope<ByteBuffer>) {
        guard !self.closed, let client = self.clientAddress, let socket = self.clientSocket else {
            self.counters.drop(.early)
            return
        }
        let source = SOCKSEndpoint(envelope.remoteAddress)
        let rule: String
        if let sentTo = self.peers[source] {
            rule = sentTo
        } else if self.terms.replies == .any, let first = self.firstRule {
            rule = first
        } else {
            self.counters.drop(.unsolicited)
            return
        }
        var payload = envelope.data
        guard self.throttles[rule]?.down?.admitDatagram(payload.readableBytes) ?? true else {
            self.counters.drop(.bandwidth)
            return
        }
        self.activity &+= 1
        var datagram = socket.allocator.buffer(capacity: payload.readableBytes + 22)
        datagram.writeSOCKSUDPHeader(SOCKSUDPHeader(endpoint: source))
        self.counters.datagramsDown += 1
        self.counters.bytesDown += payload.readableBytes
        datagram.writeBuffer(&payload)
        socket.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: datagram), promise: nil)
    }

    /// Sends to `address`, which the datagram named as `name` when it named one (rules match both).
    func send(_ data: ByteBuffer, to address: SocketAddress, name: String? = nil) {
        guard case .permitted(let permitting) = self.terms.policy.decision(of: address, name: name) else {
            self.counters.drop(.denied)
            return
        }
        let rule = self.throttle(for: permitting)
        guard self.throttles[rule]?.up?.admitDatagram(data.readableBytes) ?? true else {
            self.counters.drop(.bandwidth)
            return
        }
        self.transmit(data, to: address, rule: rule)
    }

    /// Writes a permitted datagram on its family's socket, opening the socket first if need be.
    func transmit(_ data: ByteBuffer, to address: SocketAddress, rule: String) {
        let socket: (any Channel)?
        switch address {
        case .v4: socket = self.v4Socket
        case .v6: socket = self.v6Socket
        case .unixDomainSocket: socket = nil
        }
        if let socket {
            self.peers.sent(to: SOCKSEndpoint(address), rule: rule)
            self.counters.datagramsUp += 1
            self.counters.bytesUp += data.readableBytes
            socket.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: data), promise: nil)
            return
        }
        // First datagram of this family: open its socket, then send. The socket is a descriptor beyond the
        // two the control connection holds (issue 12, defect 9).
        let wildcard = (try? SocketAddress(ipAddress: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0))
        guard let wildcard else {
            self.counters.drop(.unroutable)
            return
        }
        let descriptors = self.terms.settings.shared.descriptors
        guard descriptors.reserve(1) else {
            self.counters.drop(.busy)
            return
        }
        self.makeSocket(bindTo: wildcard, side: .target).assumeIsolated().whenComplete { result in
            guard case .success(let channel) = result else {
                descriptors.release(1)
                self.counters.drop(.unroutable)
                return
            }
            channel.closeFuture.whenComplete { _ in descriptors.release(1) }
            guard !self.closed else {
                channel.close(promise: nil)
                self.counters.drop(.unroutable)
                return
            }
            // Two first datagrams may race to open the family's socket: the first one opened stays.
            if address.protocol == .inet6 {
                if self.v6Socket == nil { self.v6Socket = channel } else { channel.close(promise: nil) }
            } else {
                if self.v4Socket == nil { self.v4Socket = channel } else { channel.close(promise: nil) }
            }
            self.transmit(data, to: address, rule: rule)
        }
    }

    /// The key of `rule`'s throttle, made on its first datagram; the first rule to permit one is the
    /// association's, and the session hears of it.
    func throttle(for rule: AccessRule?) -> String {
        let key = rule?.name ?? ""
        if self.throttles[key] == nil {
            var settings = self.terms.settings
            if let rule {
                settings.apply(rule)
            }
            self.throttles[key] = UDPThrottle(
                up: RelayWiring.throttle(.up, settings: settings, user: self.terms.user),
                down: RelayWiring.throttle(.down, settings: settings, user: self.terms.user)
            )
        }
        if self.firstRule == nil {
            self.firstRule = key
            self.ruleDecided?(rule)
        }
        return key
    }
}
