import Foundation
import Logging

/// A log handler writing one line per message to standard error:
/// `2026-11-24T18:31:37Z warning multiprodigy: provider 'openai' is disabled … request_id=req_…`.
///
/// Unlike swift-log's `StreamLogHandler`, it formats metadata only when a message is written, so
/// setting per-request metadata costs nothing when the level filters the message out.
public struct GatewayLogHandler: LogHandler {
    /// Metadata attached to every message of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Messages below this level are dropped.
    public var logLevel: Logger.Level
    private let label: String

    /// Creates a handler for `label` that writes messages at `level` and above.
    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    /// Metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(Date().formatted(.iso8601)) \(event.level) \(label): \(event.message)"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
