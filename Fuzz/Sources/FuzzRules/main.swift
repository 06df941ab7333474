import CalzinoPolicy
import NIOCore
import SOCKSCore

// The rule syntax's matchers (CIDR blocks, address sets, names, ports) on arbitrary text, and the rule
// evaluation on arbitrary requests. Properties, beyond not crashing: a matcher written back with its
// description parses to one that matches the same; with every destination field known the rules always
// decide; a verdict given before resolution (the name known, not the address) stands after it, but for the
// protected-class check that needs the address.

func host(_ bytes: ArraySlice<UInt8>) -> SOCKSHost {
    guard let first = bytes.first else { return .ipv4(0) }
    if first & 1 == 0 {
        var value: UInt32 = 0
        for byte in bytes.dropFirst().prefix(4) { value = value << 8 | UInt32(byte) }
        return .ipv4(value)
    }
    var high: UInt64 = 0, low: UInt64 = 0
    for byte in bytes.dropFirst().prefix(8) { high = high << 8 | UInt64(byte) }
    for byte in bytes.dropFirst(9).prefix(8) { low = low << 8 | UInt64(byte) }
    return .ipv6(SOCKSIPv6Address(high: high, low: low))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let text = String(decoding: bytes[..<split], as: UTF8.self)
    let probe = bytes[min(split + 1, bytes.count)...]
    let target = host(probe)
    let port = UInt16(truncatingIfNeeded: probe.count)
    var rules: [AccessRule] = []
    for (index, word) in text.split(whereSeparator: { $0 == "\n" || $0 == "," }).enumerated() {
        let word = String(word)
        let action: AccessRule.Action = index % 2 == 0 ? .deny : .allow
        if let matcher = AddressMatcher(parsing: word) {
            guard let again = AddressMatcher(parsing: matcher.description), again.matches(target) == matcher.matches(target) else {
                fatalError("\(word) does not survive its description \(matcher)")
            }
            rules.append(AccessRule(name: "a\(index)", action: action, destinationAddresses: [matcher]))
        }
        if let pattern = NamePattern(parsing: word) {
            guard let again = NamePattern(parsing: pattern.description), again.matches(word) == pattern.matches(word) else {
                fatalError("\(word) does not survive its description \(pattern)")
            }
            rules.append(AccessRule(name: "n\(index)", action: action, destinationNames: [pattern]))
        }
        if let range = PortRange(parsing: word) {
            guard PortRange(parsing: range.description) == range else { fatalError("\(word) does not survive \(range)") }
            rules.append(AccessRule(name: "p\(index)", action: action, destinationPorts: [range]))
        }
    }
    let accessRules = AccessRules(rules: rules, defaultAction: probe.count % 2 == 0 ? .allow : .deny)
    let protected: Set<AddressClass> = probe.count % 3 == 0 ? DestinationPolicy.protectedClasses : []
    let name = text.isEmpty ? "example.test" : String(text.prefix(64))
    var request = AccessRequest(listener: "l", client: .ipv4(0x7F00_0001), user: nil, version: .socks5, command: .connect)
    request.destinationName = name
    request.destinationAddress = target
    request.destinationPort = port
    let late = accessRules.evaluate(request, protected: protected)
    if case .undecided = late {
        fatalError("undecided with every destination field known")
    }
    // Before resolution only the name is known. A verdict given then stands after it: a denial exactly; an
    // allowance by the same rule, unless the address turns out to be in a protected class that the allowing
    // rule does not name (the check that needs the address).
    var early = request
    early.destinationAddress = nil
    switch accessRules.evaluate(early, protected: protected) {
    case .undecided:
        break
    case .denied(let reason):
        guard case .denied(reason) = late else { fatalError("denied (\(reason)) before resolution, \(late) after") }
    case .allowed(let rule):
        switch late {
        case .allowed(let lateRule) where lateRule?.name == rule?.name:
            break
        case .denied(.protected):
            guard rule?.destinationAddresses == nil else { fatalError("a rule naming addresses allowed \(name) before resolution") }
        default:
            fatalError("allowed by \(rule?.name ?? "default") before resolution, \(late) after")
        }
    }
    return 0
}
