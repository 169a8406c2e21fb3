import Foundation
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// A log handler writing one line per message to standard error:
/// `2026-11-24T18:31:37Z warning multiprodigy: provider 'openai' is disabled … request_id=req_…`.
///
/// Unlike swift-log's `StreamLogHandler`, it formats metadata only when a message is written, so
/// setting per-request metadata costs nothing when the level filters the message out.
///
/// Every line, metadata included, passes through a ``SecretScrubber`` before it is written: the
/// last line of defence for text that quotes an upstream or a library's description of a value.
public struct GatewayLogHandler: LogHandler {
    /// Metadata attached to every message of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Messages below this level are dropped.
    public var logLevel: Logger.Level
    private let label: String
    private let secrets: KnownSecrets
    private let write: @Sendable (String) -> Void

    /// Creates a handler for `label` that writes messages at `level` and above.
    ///
    /// - Parameters:
    ///   - label: The logger's label, written on every line.
    ///   - level: The lowest level written.
    ///   - secrets: The secrets masked in every line; give the gateway the same instance
    ///     (``Gateway/knownSecrets``) so that it learns those of each configuration it loads.
    ///   - write: Where a finished line (with its newline) goes; standard error by default.
    public init(
        label: String,
        level: Logger.Level,
        secrets: KnownSecrets = KnownSecrets(),
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.logLevel = level
        self.secrets = secrets
        self.write = write
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
        write(secrets.scrubber.scrub(line))
    }
}
