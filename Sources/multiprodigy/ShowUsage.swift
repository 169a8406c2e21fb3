import ArgumentParser
import Foundation
import MultiProdigyAccounting

/// `multiprodigy usage`: prints what the usage ledger recorded, grouped.
struct ShowUsage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show requests, errors, tokens, cost and latency from the usage ledger, by key, model, provider, route or api.",
        discussion: """
            Reads the database named by the config's storage: setting (or --storage): an SQLite file, or the PostgreSQL \
            database replicas share. Rows that a gateway recorded but had not yet stored, because it was killed or is still \
            running, are loaded from its usage journal first (beside an SQLite file; for PostgreSQL, the config's \
            storage.journal folder, so run it with the config of the replica whose journal it should load). Errors are \
            requests answered with a status of 400 or more; latency is from a request's arrival to its last byte.

            Examples:
              multiprodigy usage                          # the last 24 hours, by key
              multiprodigy usage --since 7d --by model
              multiprodigy usage --since 2025-06-01 --by provider --json
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(
        name: .long,
        help: "The start of the period: a duration back from now (30m, 24h, 7d, 2w) or a date (2025-06-01, 2025-06-01T12:00:00Z)."
    )
    var since = "24h"

    @Option(name: .long, help: "Group by key, model, provider, route or api (chat, responses, messages, embeddings).")
    var by = "key"

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard UsageReport.since(parsing: since) != nil else {
            throw ValidationError("--since '\(since)' is neither a duration (30m, 24h, 7d, 2w) nor a date (2025-06-01).")
        }
        guard UsageGrouping(rawValue: by) != nil else {
            throw ValidationError("--by '\(by)' is not one of key, model, provider, route, api.")
        }
    }

    func run() async throws {
        let start = UsageReport.since(parsing: since) ?? Date()
        let grouping = UsageGrouping(rawValue: by) ?? .key
        let report = try await storage.withDatabase { database in try await UsageReport.read(from: database, since: start, by: grouping) }
        print(json ? report.json.text : report.table, terminator: json ? "\n" : "")
    }
}
