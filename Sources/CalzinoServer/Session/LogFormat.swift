/// How the access log is written (issue 13): one text line, or fields for a structured (JSON) handler.
public enum LogFormat: String, Hashable, Sendable, CaseIterable {
    /// `client=… version=… …`, escaped (README, "The access log").
    case text
    /// The message `session` with every field as metadata, the session's number among them; the log
    /// handler (the executable's `JSONLogHandler`) writes one JSON object per line.
    case json
}
