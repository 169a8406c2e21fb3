/// How log lines are written (`server.log_format`, or `multiprodigy serve --log-format`).
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    /// One line of text per message: time, level, logger, message, `key=value` metadata.
    case text
    /// One JSON object per line, and one access-log line per finished request.
    case json
}
