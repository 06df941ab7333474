/// A destination name matcher: an exact name (`intranet.example`) or every name below a domain
/// (`*.example.com` matches `www.example.com` and `a.b.example.com`, not `example.com` itself). Names
/// compare without regard to case and to a trailing dot.
public struct NamePattern: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable {
        case exact(String)
        /// The suffix with its leading dot: `.example.com`.
        case below(String)
    }

    private let kind: Kind

    /// `nil` for an empty name, an empty label (`a..b`, `.a`, `a..`), a `*` anywhere but a leading `*.`,
    /// or a bare `*.`.
    public init?(parsing text: String) {
        let name = Self.normalize(text)
        let below = name.hasPrefix("*.")
        let rest = below ? name.dropFirst(2) : Substring(name)
        let labels = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard !rest.isEmpty, labels.allSatisfy({ !$0.isEmpty && !$0.contains("*") }) else { return nil }
        self.kind = below ? .below("." + rest) : .exact(String(rest))
    }

    public func matches(_ name: String) -> Bool {
        let candidate = Self.normalize(name)
        switch self.kind {
        case .exact(let exact): return candidate == exact
        case .below(let suffix): return candidate.hasSuffix(suffix)
        }
    }

    public var description: String {
        switch self.kind {
        case .exact(let exact): return exact
        case .below(let suffix): return "*\(suffix)"
        }
    }

    private static func normalize(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }
}
