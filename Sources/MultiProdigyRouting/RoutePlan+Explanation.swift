import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

extension RoutePlan {
    /// The plan as `POST /v1/route` answers it:
    ///
    /// ```json
    /// {"model":"auto","route":"auto","policy":"cost","private":true,"private_reason":"pii:email",
    ///  "prompt_tokens":412,"expected_output_tokens":256,"expected_output_source":"default",
    ///  "plan":[{"target":"llama3.2","provider":"ollama","locality":"local","estimated_cost_usd":0,
    ///           "predicted_latency_ms":140,"reason":"cheapest eligible"}],
    ///  "excluded":[{"target":"gpt-4o-mini","provider":"openai","reason":"cloud target for a private request"}]}
    /// ```
    ///
    /// When no target can serve the request, `plan` is empty and `error` holds what a real request
    /// would get (status included).
    public var explanation: JSONValue {
        var object: [(String, JSONValue)] = [
            ("model", .string(requestedName)),
            ("route", routeName.map(JSONValue.string) ?? .null),
            ("policy", .string(policy.rawValue)),
            ("private", .bool(isPrivate)),
            ("private_reason", privateReason.map(JSONValue.string) ?? .null),
            ("prompt_tokens", .integer(promptTokens)),
            ("expected_output_tokens", .integer(answerLength.tokens)),
            ("expected_output_source", .string(answerLength.source.rawValue)),
            (
                "plan",
                .array(
                    entries.map { entry in
                        [
                            "target": .string(entry.target.name),
                            "provider": .string(entry.target.providerName),
                            "locality": .string(entry.locality.rawValue),
                            "estimated_cost_usd": entry.estimatedCostUSD.map { .double(Self.roundedUSD($0)) } ?? .null,
                            "predicted_latency_ms": entry.predictedLatency.map { .double(Self.milliseconds($0)) } ?? .null,
                            "reason": .string(entry.reason),
                        ]
                    }
                )
            ),
            (
                "excluded",
                .array(
                    excluded.map { exclusion in
                        [
                            "target": .string(exclusion.target.name),
                            "provider": .string(exclusion.target.providerName),
                            "cause": .string(exclusion.cause.rawValue),
                            "reason": .string(exclusion.reason),
                        ]
                    }
                )
            ),
        ]
        if let error {
            object.append(
                (
                    "error",
                    [
                        "status": .integer(error.status.code),
                        "message": .string(error.message),
                        "type": .string(error.type),
                        "code": error.code.map(JSONValue.string) ?? .null,
                    ]
                )
            )
        }
        var result = JSONObject()
        for (key, value) in object { result[key] = value }
        return .object(result)
    }

    /// The plan as `multiprodigy route` prints it: a header line, one line per target, then the
    /// exclusions.
    public var explanationText: String {
        var lines = [
            "\(routeName.map { "route \($0)" } ?? "model \(requestedName)"): policy \(policy.rawValue), ~\(promptTokens) prompt tokens, "
                + "~\(answerLength.tokens) answer tokens (\(answerLength.source.rawValue))"
        ]
        if let privateReason { lines.append("private: only local targets (\(privateReason))") }
        if let error { lines.append("error \(error.status.code) \(error.code ?? ""): \(error.message)") }
        let rows = entries.enumerated().map { position, entry in
            [
                "\(position + 1).",
                entry.target.name,
                entry.target.providerName,
                entry.locality.rawValue,
                entry.estimatedCostUSD.map { "$" + CostFormatting.usd($0) } ?? "price ?",
                entry.predictedLatency.map { "\(Int(Self.milliseconds($0))) ms" } ?? "latency ?",
                entry.reason,
            ]
        }
        lines += Self.aligned(rows)
        for exclusion in excluded {
            lines.append("excluded \(exclusion.target.name) (\(exclusion.target.providerName)): \(exclusion.reason)")
        }
        return lines.joined(separator: "\n")
    }

    private static func roundedUSD(_ amount: Double) -> Double {
        (amount * 1e10).rounded() / 1e10
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        (duration.seconds * 10_000).rounded() / 10
    }

    private static func aligned(_ rows: [[String]]) -> [String] {
        guard let columns = rows.first?.count else { return [] }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == columns - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
