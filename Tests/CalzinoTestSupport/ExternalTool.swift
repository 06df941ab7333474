import Foundation

/// A program from Debian's packages that a test drives (chromium, promtool, systemd-analyze). Outside CI a
/// test whose program is missing is skipped, saying which; in CI (`CI=true`) it runs and fails, because
/// `.ci/run` installs every one of them.
package enum ExternalTool {
    /// The program's path on the PATH, if it is there.
    package static func path(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether a test that needs `name` should run: it is installed, or this is CI, where it must be.
    package static func runnable(_ name: String) -> Bool {
        self.path(name) != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}
