/// What `calzino --version` prints: the release, and how this binary was built.
enum BuildInfo {
    /// The release: the number of the last issue that landed in full, as 0.ISSUE.0 until 1.0.
    static let version = "0.13.0"

    static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    static var compiler: String {
        #if compiler(>=6.3)
        return "Swift 6.3 or later"
        #elseif compiler(>=6.0)
        return "Swift 6"
        #else
        return "Swift"
        #endif
    }

    static var platform: String {
        #if os(Linux) && arch(x86_64)
        return "Linux x86_64"
        #elseif os(Linux) && arch(arm64)
        return "Linux arm64"
        #elseif os(macOS)
        return "macOS"
        #else
        return "unknown platform"
        #endif
    }

    /// `0.13.0 (release build, Swift 6.3 or later, Linux x86_64)`
    static var line: String {
        "\(Self.version) (\(Self.configuration) build, \(Self.compiler), \(Self.platform))"
    }
}
