import ArgumentParser
import CalzinoConfiguration
import CalzinoServer
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration file on SIGHUP: the file is read again, the command line's flags are put over
/// it, and the result goes to the server for new sessions. A file that fails to load is refused with a
/// logged error and the configuration in force stays.
struct ConfigurationReloader: Service {
    let path: String
    let flags: ServeOptions
    let server: CalzinoServer
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            self.reload()
        }
    }

    private func reload() {
        do {
            let options = try ServeOptions.load(path: self.path).merging(self.flags)
            try self.server.reload(try options.makeConfiguration())
            self.logger.notice("configuration reloaded", metadata: ["file": "\(self.path)"])
        } catch {
            self.logger.error("configuration not reloaded; the previous one stays in force", metadata: ["file": "\(self.path)", "error": "\(error)"])
        }
    }
}
