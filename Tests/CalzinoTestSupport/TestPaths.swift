import Foundation

package enum TestPaths {
    /// The package root, from this file's place in it.
    package static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    package static func script(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Scripts/\(name)").path
    }

    /// The `calzino` binary that `swift build` made (the README's test command builds before testing).
    package static var calzino: String {
        if let override = ProcessInfo.processInfo.environment["CALZINO_BIN"] { return override }
        return packageRoot.appendingPathComponent(".build/debug/calzino").path
    }
}
