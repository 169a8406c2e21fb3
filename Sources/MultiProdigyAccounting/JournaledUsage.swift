import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
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
        // Sized first, then written in one pass into one buffer: a line has some thirty parts.
        let strings = [record.requestID, record.keyName, record.endpoint, record.route, record.provider, record.model]
        var room = 320 + 6 * UnsafeByteWriter.maximumDecimalLength + 4 * 32
        for string in strings { room += string.map(JSONWriter.maximumEncodedLength(of:)) ?? 4 }
        // The path: `,"path":[` and `]`, and each step quoted and escaped, with its comma.
        if let path = record.path { room += 12 + path.reduce(0) { $0 + JSONWriter.maximumEncodedLength(of: $1) + 1 } }
        var buffer = ByteBuffer()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { output in
            var line = UnsafeByteWriter(output)
            func string(_ text: String?) {
                if let text { JSONWriter.appendString(text, to: &line) } else { line.append("null") }
            }
            // Swift prints the shortest text that reads back as the same `Double`, which JSON
            // accepts; a non-finite value (never expected) is written as 0 so the line stays JSON.
            func number(_ value: Double) { line.append(value.isFinite ? value.description : "0") }
            line.append("{\"v\":1,\"token\":")
            line.appendDecimal(Int(token))
            line.append(",\"seq\":")
            line.appendDecimal(Int(sequence))
            line.append(",\"time\":")
            number(record.time.timeIntervalSince1970)
            line.append(",\"request_id\":")
            string(record.requestID)
            line.append(",\"key_name\":")
            string(record.keyName)
            line.append(",\"endpoint\":")
            string(record.endpoint)
            line.append(",\"route\":")
            string(record.route)
            line.append(",\"provider\":")
            string(record.provider)
            line.append(",\"model\":")
            string(record.model)
            line.append(",\"prompt_tokens\":")
            line.appendDecimal(record.promptTokens)
            line.append(",\"completion_tokens\":")
            line.appendDecimal(record.completionTokens)
            line.append(",\"cost_usd\":")
            number(record.costUSD)
            line.append(",\"latency_seconds\":")
            number(record.latencySeconds)
            line.append(",\"ttft_seconds\":")
            if let ttft = record.timeToFirstTokenSeconds { number(ttft) } else { line.append("null") }
            line.append(",\"status\":")
            line.appendDecimal(record.status)
            line.append(",\"attempts\":")
            line.appendDecimal(record.attempts)
            if let path = record.path, !path.isEmpty {
                line.append(",\"path\":[")
                for (index, step) in path.enumerated() {
                    if index > 0 { line.append(",") }
                    string(step)
                }
                line.append("]")
            }
            line.append("}\n")
            return line.count
        }
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
            attempts: decoded.attempts,
            path: decoded.path
        )
    }

    /// Creates an entry.
    init(token: Int64, sequence: Int64, record: UsageRecord) {
        self.token = token
        self.sequence = sequence
        self.record = record
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
        var path: [String]?
    }
}
