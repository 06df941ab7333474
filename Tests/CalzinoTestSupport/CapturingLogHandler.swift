import Logging
import NIOConcurrencyHelpers

/// Keeps every log message, so tests can read the access log; and each message's metadata beside it.
package struct CapturingLogHandler: LogHandler {
    package final class Store: Sendable {
        private let box = NIOLockedValueBox<[(line: String, metadata: Logger.Metadata)]>([])
        package func append(_ line: String, metadata: Logger.Metadata = [:]) { self.box.withLockedValue { $0.append((line, metadata)) } }
        package var lines: [String] { self.box.withLockedValue { $0.map(\.line) } }
        /// Each message with the metadata it was logged with (the handler's own included).
        package var events: [(line: String, metadata: Logger.Metadata)] { self.box.withLockedValue { $0 } }
    }

    package let store: Store
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        self.store.append("\(event.message)", metadata: self.metadata.merging(event.metadata ?? [:]) { $1 })
    }

    package static func logger(label: String) -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in CapturingLogHandler(store: store) }, store)
    }
}
