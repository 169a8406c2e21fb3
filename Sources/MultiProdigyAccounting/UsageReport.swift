import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// Usage since a date, grouped, as `multiprodigy usage` prints it: an aligned table or JSON.
///
/// ```
/// key       requests  errors  prompt_tokens  completion_tokens  cost_usd  p50_ms  avg_ms  max_ms
/// team-a          12       1           1200                340  0.001234     350     410     900
/// (no key)         3       0            100                 20  0.000000      80      95     120
/// total           15       1           1300                360  0.001234     300     347     900
/// ```
public struct UsageReport: Sendable, Equatable {
    /// The start of the period reported.
    public var since: Date
    /// What rows are grouped by.
    public var grouping: UsageGrouping
    /// One row per group, dearest first.
    public var rows: [UsageSummaryRow]
    /// All rows together.
    public var total: UsageSummaryRow

    /// A report of `rows` and their `total`.
    public init(since: Date, grouping: UsageGrouping, rows: [UsageSummaryRow], total: UsageSummaryRow) {
        self.since = since
        self.grouping = grouping
        self.rows = rows
        self.total = total
    }

    /// Reads the report from `database` (committed rows; open the database first, which replays its journal).
    public static func read(from database: GatewayDatabase, since: Date, by grouping: UsageGrouping) async throws -> UsageReport {
        UsageReport(
            since: since,
            grouping: grouping,
            rows: try await database.usageSummary(since: since, groupColumn: grouping.column),
            total: try await database.usageSummary(since: since, groupColumn: "NULL").first ?? .nothing
        )
    }

    /// The start of a report period: a duration back from `now` (`30m`, `24h`, `7d`, `2w`) or an
    /// ISO 8601 date (`2025-06-01`, `2025-06-01T12:00:00Z`); nil when `text` is neither.
    public static func since(parsing text: String, now: Date = Date()) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let amount = Double(text.dropLast(unit.suffix.count)), amount.isFinite, amount >= 0 {
                return now.addingTimeInterval(-amount * unit.seconds)
            }
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day())
    }

    /// How a group with no value is shown: `(no key)` for keys, `(none)` otherwise.
    public var emptyGroupLabel: String { grouping == .key ? "(no key)" : "(none)" }

    /// The aligned table, a total line last; a single sentence when nothing was recorded.
    public var table: String {
        let sinceText = since.formatted(.iso8601)
        guard total.requests > 0 else { return "No requests recorded since \(sinceText).\n" }
        let header = [
            grouping.rawValue, "requests", "errors", "prompt_tokens", "completion_tokens", "cost_usd", "p50_ms", "avg_ms", "max_ms",
        ]
        let lines =
            [header] + rows.map { cells(for: $0, label: $0.group ?? emptyGroupLabel) } + [cells(for: total, label: "total")]
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        var text = "Usage since \(sinceText), by \(grouping.rawValue):\n"
        for line in lines {
            let padded = line.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - line[column].count)
                return column == 0 ? line[column] + padding : padding + line[column]
            }
            text += padded.joined(separator: "  ") + "\n"
        }
        return text
    }

    /// The report as JSON: `{"since", "by", "groups": [{"group", "requests", "errors", "prompt_tokens",
    /// "completion_tokens", "cost_usd", "latency_ms": {"p50", "mean", "max"}}], "total": {…}}`.
    public var json: JSONValue {
        [
            "since": .string(since.formatted(.iso8601)),
            "by": .string(grouping.rawValue),
            "groups": .array(rows.map(Self.json(for:))),
            "total": Self.json(for: total),
        ]
    }

    private func cells(for row: UsageSummaryRow, label: String) -> [String] {
        [
            label, String(row.requests), String(row.errors), String(row.promptTokens), String(row.completionTokens),
            String(format: "%.6f", row.costUSD), Self.milliseconds(row.medianLatencySeconds),
            Self.milliseconds(row.meanLatencySeconds), Self.milliseconds(row.maxLatencySeconds),
        ]
    }

    private static func milliseconds(_ seconds: Double) -> String {
        String(Int((seconds * 1000).rounded()))
    }

    private static func json(for row: UsageSummaryRow) -> JSONValue {
        [
            "group": row.group.map { .string($0) } ?? .null,
            "requests": .integer(row.requests),
            "errors": .integer(row.errors),
            "prompt_tokens": .integer(row.promptTokens),
            "completion_tokens": .integer(row.completionTokens),
            "cost_usd": .double(row.costUSD),
            "latency_ms": [
                "p50": .double(row.medianLatencySeconds * 1000),
                "mean": .double(row.meanLatencySeconds * 1000),
                "max": .double(row.maxLatencySeconds * 1000),
            ],
        ]
    }
}
