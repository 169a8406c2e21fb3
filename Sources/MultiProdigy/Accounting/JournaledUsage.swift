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
        // Built as bytes and copied into the buffer once: each ByteBuffer write has a fixed cost,
        // and a line has some thirty parts.
        var bytes = [UInt8]()
        bytes.reserveCapacity(384)
        func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
        func string(_ text: String?) {
            if let text { JSONWriter.appendString(text, to: &bytes) } else { raw("null") }
        }
        func number(_ value: Double) { raw(value.isFinite ? value.description : "0") }
        raw("{\"v\":1,\"token\":")
        raw(String(token))
        raw(",\"seq\":")
        raw(String(sequence))
        raw(",\"time\":")
        number(record.time.timeIntervalSince1970)
        raw(",\"request_id\":")
        string(record.requestID)
        raw(",\"key_name\":")
        string(record.keyName)
        raw(",\"endpoint\":")
        string(record.endpoint)
        raw(",\"route\":")
        string(record.route)
        raw(",\"provider\":")
        string(record.provider)
        raw(",\"model\":")
        string(record.model)
        raw(",\"prompt_tokens\":")
        raw(String(record.promptTokens))
        raw(",\"completion_tokens\":")
        raw(String(record.completionTokens))
        raw(",\"cost_usd\":")
        number(record.costUSD)
        raw(",\"latency_seconds\":")
        number(record.latencySeconds)
        raw(",\"ttft_seconds\":")
        if let ttft = record.timeToFirstTokenSeconds { number(ttft) } else { raw("null") }
        raw(",\"status\":")
        raw(String(record.status))
        raw(",\"attempts\":")
        raw(String(record.attempts))
        raw("}\n")
        return ByteBuffer(bytes: bytes)
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
