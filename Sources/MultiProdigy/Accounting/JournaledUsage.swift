import Foundation
import NIOCore

/// A usage record as one line of the usage journal, with the identity that makes replaying it idempotent.
///
/// `token` is chosen at random by each ``UsageLedger`` and `sequence` counts its records, so the pair
/// names one call of ``UsageLedger/record(_:)`` across processes and restarts. The ledger's table holds
/// the pair as a unique key: replaying a line that is already stored inserts nothing, while two
/// requests that happen to share a request id are both kept.
struct JournaledUsage: Sendable, Equatable {
    /// The writing ledger's random identity.
    var token: Int64
    /// The record's number within that ledger.
    var sequence: Int64
    /// The record itself.
    var record: UsageRecord

    /// The record as one JSON line (ending in a newline), written by hand: ``UsageLedger/record(_:)``
    /// runs on the request path and this takes about a microsecond, a `JSONEncoder` several.
    func line() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(384)
        buffer.writeStaticString("{\"v\":1,\"token\":")
        buffer.writeString(String(token))
        buffer.writeStaticString(",\"seq\":")
        buffer.writeString(String(sequence))
        buffer.writeStaticString(",\"time\":")
        Self.write(record.time.timeIntervalSince1970, into: &buffer)
        buffer.writeStaticString(",\"request_id\":")
        JSONWriter.writeString(record.requestID, into: &buffer)
        buffer.writeStaticString(",\"key_name\":")
        JSONWriter.writeOptionalString(record.keyName, into: &buffer)
        buffer.writeStaticString(",\"endpoint\":")
        JSONWriter.writeString(record.endpoint, into: &buffer)
        buffer.writeStaticString(",\"route\":")
        JSONWriter.writeString(record.route, into: &buffer)
        buffer.writeStaticString(",\"provider\":")
        JSONWriter.writeOptionalString(record.provider, into: &buffer)
        buffer.writeStaticString(",\"model\":")
        JSONWriter.writeOptionalString(record.model, into: &buffer)
        buffer.writeStaticString(",\"prompt_tokens\":")
        buffer.writeString(String(record.promptTokens))
        buffer.writeStaticString(",\"completion_tokens\":")
        buffer.writeString(String(record.completionTokens))
        buffer.writeStaticString(",\"cost_usd\":")
        Self.write(record.costUSD, into: &buffer)
        buffer.writeStaticString(",\"latency_seconds\":")
        Self.write(record.latencySeconds, into: &buffer)
        buffer.writeStaticString(",\"ttft_seconds\":")
        if let ttft = record.timeToFirstTokenSeconds {
            Self.write(ttft, into: &buffer)
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString(",\"status\":")
        buffer.writeString(String(record.status))
        buffer.writeStaticString(",\"attempts\":")
        buffer.writeString(String(record.attempts))
        buffer.writeStaticString("}\n")
        return buffer
    }

    /// Decodes one line written by ``line()`` (without its newline); nil for a torn or foreign line.
    init?(line: some Collection<UInt8>) {
        guard let decoded = try? JSONDecoder().decode(Line.self, from: Data(line)), decoded.v == 1 else { return nil }
        token = decoded.token
        sequence = decoded.seq
        record = UsageRecord(
            time: Date(timeIntervalSince1970: decoded.time),
            requestID: decoded.request_id,
            keyName: decoded.key_name,
            endpoint: decoded.endpoint,
            route: decoded.route,
            provider: decoded.provider,
            model: decoded.model,
            promptTokens: decoded.prompt_tokens,
            completionTokens: decoded.completion_tokens,
            costUSD: decoded.cost_usd,
            latencySeconds: decoded.latency_seconds,
            timeToFirstTokenSeconds: decoded.ttft_seconds,
            status: decoded.status,
            attempts: decoded.attempts
        )
    }

    /// Creates an entry.
    init(token: Int64, sequence: Int64, record: UsageRecord) {
        self.token = token
        self.sequence = sequence
        self.record = record
    }

    /// Swift prints the shortest text that reads back as the same `Double`, which JSON accepts;
    /// a non-finite value (never expected) is written as 0 so the line stays valid JSON.
    private static func write(_ value: Double, into buffer: inout ByteBuffer) {
        buffer.writeString(value.isFinite ? value.description : "0")
    }

    /// The line's fields, named as written.
    private struct Line: Decodable {
        var v: Int
        var token: Int64
        var seq: Int64
        var time: Double
        var request_id: String
        var key_name: String?
        var endpoint: String
        var route: String
        var provider: String?
        var model: String?
        var prompt_tokens: Int
        var completion_tokens: Int
        var cost_usd: Double
        var latency_seconds: Double
        var ttft_seconds: Double?
        var status: Int
        var attempts: Int
    }
}
