import GRDB
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

extension JournaledUsage {
    /// Inserts `entries` into the `usage` table; entries already there (same token and sequence) are ignored.
    static func insert(_ entries: [JournaledUsage], into db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO usage (
                    journal_token, journal_sequence, time, request_id, key_name, endpoint, route, provider, model,
                    prompt_tokens, completion_tokens, cost_usd, latency_seconds, ttft_seconds, status, attempts
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for entry in entries {
            let record = entry.record
            try statement.execute(arguments: [
                entry.token, entry.sequence, record.time.timeIntervalSince1970, record.requestID, record.keyName,
                record.endpoint, record.route, record.provider, record.model, record.promptTokens,
                record.completionTokens, record.costUSD, record.latencySeconds, record.timeToFirstTokenSeconds,
                record.status, record.attempts,
            ])
        }
    }
}
