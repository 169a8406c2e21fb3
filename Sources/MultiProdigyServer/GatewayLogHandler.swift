import Foundation
import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// A log handler writing one line per message to standard error, as text:
/// `2026-11-24T18:31:37Z warning multiprodigy: provider 'openai' is disabled … request_id=req_…`,
/// or, with ``LogFormat/json``, as one JSON object:
/// `{"time":"2026-11-24T18:31:37Z","level":"warning","logger":"multiprodigy","message":"…","request_id":"req_…"}`
/// (metadata members after the four fixed ones, numbers and booleans as JSON numbers and booleans).
///
/// Unlike swift-log's `StreamLogHandler`, it formats metadata only when a message is written, so
/// setting per-request metadata costs nothing when the level filters the message out.
///
/// Every line, metadata included, passes through a ``SecretScrubber`` before it is written (in JSON,
/// every text before it is encoded): the last line of defence for text that quotes an upstream or a
/// library's description of a value.
public struct GatewayLogHandler: LogHandler {
    /// Metadata attached to every message of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Messages below this level are dropped.
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat
    private let secrets: KnownSecrets
    private let write: @Sendable (String) -> Void

    /// Creates a handler for `label` that writes messages at `level` and above.
    ///
    /// - Parameters:
    ///   - label: The logger's label, written on every line.
    ///   - level: The lowest level written.
    ///   - format: Text lines or JSON objects.
    ///   - secrets: The secrets masked in every line; give the gateway the same instance
    ///     (``Gateway/knownSecrets``) so that it learns those of each configuration it loads.
    ///   - write: Where a finished line (with its newline) goes; standard error by default.
    public init(
        label: String,
        level: Logger.Level,
        format: LogFormat = .text,
        secrets: KnownSecrets = KnownSecrets(),
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
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
        var line: String
        switch format {
        case .text:
            line = "\(Date().formatted(.iso8601)) \(event.level) \(label): \(event.message)"
            for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        case .json:
            // Every text is scrubbed before it is encoded: masking the encoded line could cut an
            // escape sequence in two, or miss a key that follows an escaped newline.
            let scrubber = secrets.scrubber
            var object = JSONObject()
            object["time"] = .string(Date().formatted(.iso8601))
            object["level"] = .string(event.level.rawValue)
            object["logger"] = .string(scrubber.scrub(label))
            object["message"] = .string(scrubber.scrub("\(event.message)"))
            for key in merged.keys.sorted() where object[key] == nil {
                object[scrubber.scrub(key)] = Self.json(merged[key]!, scrubbing: scrubber)
            }
            write(String(buffer: JSONValue.object(object).buffer) + "\n")
            return
        }
        line += "\n"
        write(secrets.scrubber.scrub(line))
    }

    /// A metadata value as JSON, its texts scrubbed: integers, numbers and booleans as themselves,
    /// lists and dictionaries as arrays and objects, anything else as its text.
    static func json(_ value: Logger.Metadata.Value, scrubbing scrubber: SecretScrubber) -> JSONValue {
        switch value {
        case .string(let text): return .string(scrubber.scrub(text))
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger: return .number(String(describing: number))
            case let number as Double where number.isFinite: return .double(number)
            case let flag as Bool: return .bool(flag)
            default: return .string(scrubber.scrub(convertible.description))
            }
        case .array(let values): return .array(values.map { json($0, scrubbing: scrubber) })
        case .dictionary(let values):
            var object = JSONObject()
            for key in values.keys.sorted() { object[scrubber.scrub(key)] = json(values[key]!, scrubbing: scrubber) }
            return .object(object)
        }
    }
}
