import Logging

/// The log handler of swift-otel's diagnostics: writes through the gateway's logger at `warning` and above only,
/// without the metadata fields in which swift-otel quotes environment variables' values (`environment_value`,
/// `previous_value`, `new_value`), which may hold a collector's credentials.
struct OverrideValueDroppingLogHandler: LogHandler {
    /// The fields dropped from every line.
    static let droppedKeys: Set<String> = ["environment_value", "previous_value", "new_value", "value"]

    private var logger: Logger
    /// Metadata set on this handler.
    var metadata: Logger.Metadata = [:]
    /// At least `warning`, whatever swift-otel asks for (it reads `OTEL_LOG_LEVEL` itself).
    var logLevel: Logger.Level {
        get { max(.warning, logger.logLevel) }
        set { logger.logLevel = max(.warning, newValue) }
    }

    /// A handler writing through `logger`.
    init(wrapping logger: Logger) {
        self.logger = logger
    }

    /// Metadata by key, as every handler has it.
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the line without the dropped fields, when it is a warning or worse.
    func log(event: LogEvent) {
        guard event.level >= .warning else { return }
        var fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in Self.droppedKeys { fields[key] = nil }
        logger.log(
            level: event.level,
            event.message,
            metadata: fields,
            source: event.source,
            file: event.file,
            function: event.function,
            line: event.line
        )
    }
}
