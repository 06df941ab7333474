import Logging
import NIOConcurrencyHelpers

/// Keeps every log message, so tests can read the access log.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        private let box = NIOLockedValueBox<[String]>([])
        func append(_ line: String) { self.box.withLockedValue { $0.append(line) } }
        var lines: [String] { self.box.withLockedValue { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.store.append("\(event.message)")
    }

    static func logger(label: String) -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in CapturingLogHandler(store: store) }, store)
    }
}
