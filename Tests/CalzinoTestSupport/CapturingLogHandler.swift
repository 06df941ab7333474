import Logging
import NIOConcurrencyHelpers

/// Keeps every log message, so tests can read the access log.
package struct CapturingLogHandler: LogHandler {
    package final class Store: Sendable {
        private let box = NIOLockedValueBox<[String]>([])
        package func append(_ line: String) { self.box.withLockedValue { $0.append(line) } }
        package var lines: [String] { self.box.withLockedValue { $0 } }
    }

    package let store: Store
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        self.store.append("\(event.message)")
    }

    package static func logger(label: String) -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in CapturingLogHandler(store: store) }, store)
    }
}
