import CalzinoPolicy
import NIOCore
import SOCKSCore

/// Whether a request may go ahead, and on what terms: the rules (first match), the SOCKS4 gate on listeners
/// with users, the deciding rule's overrides, and the policy every later destination must pass. Pure: the
/// session counts itself against the session limits afterwards (`SessionCounter`), the one step that needs
/// shared state.
enum RequestAdmission {
    /// What an admitted request runs under, beside the settings `decide` changed in place.
    struct Terms {
        /// What every resolved address, BIND peer and datagram must pass.
        var policy: DestinationPolicy
        /// For the access line; `nil` without rules.
        var rule: DecidingRule?
    }

    enum Decision {
        case admitted(Terms)
        case denied(DenialReason)
    }

    /// Decides `request`; when it is admitted, puts the deciding rule's deadlines and rates into `settings`
    /// (in place: the settings are large, and a session should not copy them for nothing).
    static func decide(_ request: SOCKSClientRequest, client: SOCKSHost, user: String?, settings: inout SessionSettings) -> Decision {
        guard let access = self.accessRequest(for: request, client: client, user: user, listener: settings.listenerName) else {
            return .denied(.undecided)  // unknown commands are refused before admission
        }
        // An association whose client port is not named could be captured by whoever sends first from the
        // client's IP (issue 12, defect 3), unless the operator chose that for clients behind a NAT.
        if access.command == .udp, settings.udpClientPort == .declared, request.destination.port == 0 {
            return .denied(.udpPortUndeclared)
        }
        var decidingRule: AccessRule?
        var mention: DecidingRule?
        switch settings.rules.evaluate(access, protected: settings.protectedClasses) {
        case .denied(let reason):
            return .denied(reason)
        case .allowed(let rule):
            decidingRule = rule
            if !settings.rules.isEmpty {
                mention = .allowed(by: rule?.name)
            }
        case .undecided:
            break
        }
        // SOCKS4 carries no password: a listener with users serves it only when an allow rule names the
        // version explicitly (and so, usually, the client addresses or ident users it trusts).
        if access.version != .socks5, settings.users != nil, decidingRule?.versions == nil {
            return .denied(.socks4NeedsRule)
        }
        var terms = Terms(policy: settings.listenerPolicy, rule: mention)
        if let rule = decidingRule {
            settings.apply(rule)
        }
        if !settings.rules.isEmpty {
            terms.policy = settings.rules.destinationPolicy(for: access, protected: settings.protectedClasses)
        }
        return .admitted(terms)
    }

    /// The request as rules see it. UDP ASSOCIATE's DST is the client's own address, and a BIND to 0.0.0.0
    /// admits any peer: neither names a destination, so rules on destinations decide per datagram or peer.
    static func accessRequest(for request: SOCKSClientRequest, client: SOCKSHost, user: String?, listener: String) -> AccessRequest? {
        let command: AccessRequest.Command
        switch request.command {
        case .connect: command = .connect
        case .bind: command = .bind
        case .udpAssociate: command = .udp
        case .unknown: return nil
        }
        var access = AccessRequest(listener: listener, client: client, user: user, version: request.version, command: command)
        let host = request.destination.host
        if command != .udp, host != .unspecifiedIPv4, host != .unspecifiedIPv6 {
            access.setDestination(request.destination)
        }
        return access
    }
}
