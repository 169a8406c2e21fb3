import Foundation
import Testing

@testable import MultiProdigyAccounting

/// `server.log_format: json` (or `serve --log-format json`): every log line is a JSON object, and
/// every finished request has one access-log line that says what its ledger row says, without a
/// prompt, an answer or a secret.
@Suite(.serialized) struct AccessLogTests {
    /// The JSON objects of the gateway's log, each line parsed; a line that is not one fails.
    static func jsonLines(_ log: String) -> [[String: Any]] {
        log.split(separator: "\n").map { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            return object ?? [:]
        }
    }

    @Test func everyRequestHasOneAccessLineMatchingItsLedgerRow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-access-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = directory.appendingPathComponent("gateway.db").path
        // `broken` answers 500 to everything; `fake` answers by the stream flag.
        let upstream = FakeUpstream(
            .byPath(
                [("/broken/", FakeBehaviourBox(.respond(status: .internalServerError, body: #"{"error":{"message":"boom"}}"#)))],
                otherwise: FakeBehaviourBox(
                    .stream(events: FakeUpstream.stream(["ANSWER-", "CANARY"]) + [FakeUpstream.usageChunk()])
                )
            )
        )
        let yaml = { @Sendable (port: Int) in
            """
            server: {log_format: json}
            storage: sqlite:\(storage)
            providers:
              fake: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", api_key: "sk-KEYCANARY0123456789abcdef", locality: local}
              broken: {type: openai, base_url: "http://127.0.0.1:\(port)/broken/v1", locality: local}
            models:
              small: {provider: fake, price: {input: 1, output: 2}}
              bad: {provider: broken}
            routes:
              r: {targets: [bad, small]}
            """
        }
        try await withServingGatewayProcess(upstream: upstream, yaml: yaml) { gateway, client in
            let prompt = #","messages":[{"role":"user","content":"PROMPT-CANARY"}]"#
            var replies: [GatewayClient.Reply] = []
            replies.append(try await client.send(body: #"{"model":"small""# + prompt + "}"))
            replies.append(try await client.send(body: #"{"model":"small","stream":true"# + prompt + "}"))
            replies.append(try await client.send(body: #"{"model":"r""# + prompt + "}"))
            replies.append(try await client.send(body: #"{"model":"nothing""# + prompt + "}"))
            replies.append(try await client.send(body: #"{"model": "#))
            #expect(replies.map(\.status) == [200, 200, 200, 404, 400])
            #expect(replies[2].headers.first(name: "x-multiprodigy-model") == "small")

            kill(gateway.process.processIdentifier, SIGTERM)
            #expect(await gateway.waitForExit(timeout: .seconds(30)) == 0, "\(gateway.log)")
            let log = gateway.log
            for canary in ["PROMPT-CANARY", "ANSWER-", "KEYCANARY", "sk-"] {
                #expect(!log.contains(canary), "the log shows \(canary)")
            }
            let lines = Self.jsonLines(log)
            #expect(lines.allSatisfy { $0["time"] is String && $0["level"] is String && $0["logger"] is String && $0["message"] is String })
            let access = lines.filter { $0["logger"] as? String == "multiprodigy.access" }
            let ids = replies.compactMap { $0.headers.first(name: "x-multiprodigy-request-id") }
            #expect(ids.count == 5)
            #expect(access.compactMap { $0["request_id"] as? String }.sorted() == ids.sorted(), "one line per request")

            let database = try await GatewayDatabase.open(path: storage)
            // Each ledger row as a JSON object, so that the test reads it without a SQLite library.
            let rows = try await database.sqlitePool!.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT json_object('request_id', request_id, 'endpoint', endpoint, 'route', route, 'provider', provider,
                            'model', model, 'status', status, 'attempts', attempts, 'prompt_tokens', prompt_tokens,
                            'completion_tokens', completion_tokens, 'cost_usd', cost_usd, 'latency_seconds', latency_seconds,
                            'ttft_seconds', ttft_seconds, 'path', json(COALESCE(path, '[]'))) FROM usage
                        """
                )
            }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
            #expect(rows.count == 5)
            for row in rows {
                let id = try #require(row["request_id"] as? String)
                let line = try #require(access.first { $0["request_id"] as? String == id }, "no access line for \(id)")
                #expect(line["api"] as? String == row["endpoint"] as? String)
                #expect(line["route"] as? String == row["route"] as? String)
                #expect(line["provider"] as? String == row["provider"] as? String)
                #expect(line["model"] as? String == row["model"] as? String)
                #expect(line["path"] as? [String] == row["path"] as? [String], "path of \(id)")
                for (lineKey, rowKey) in [
                    ("status", "status"), ("attempts", "attempts"), ("input_tokens", "prompt_tokens"),
                    ("output_tokens", "completion_tokens"),
                ] {
                    #expect(line[lineKey] as? Int == row[rowKey] as? Int, "\(lineKey) of \(id)")
                }
                #expect(abs((line["cost_usd"] as? Double ?? -1) - (row["cost_usd"] as? Double ?? -2)) < 1e-12)
                let latency = try #require(row["latency_seconds"] as? Double)
                #expect(abs((line["latency_ms"] as? Double ?? -1) - latency * 1000) < 0.01)
                let ttft = row["ttft_seconds"] as? Double
                #expect((line["ttft_ms"] as? Double).map { abs($0 - (ttft ?? -1) * 1000) < 0.01 } ?? (ttft == nil))
            }
            // The failover: two attempts at `bad` (a 500 is retried once), then `small` answered.
            let failover = try #require(access.first { $0["request_id"] as? String == ids[2] })
            #expect(failover["attempts"] as? Int == 3)
            // Every target tried, and every attempt with how it ended, as the ledger's path says.
            #expect(failover["targets"] as? [String] == ["broken/bad", "fake/small"])
            #expect(failover["path"] as? [String] == ["bad:server", "bad:server", "small:ok"])
            #expect(failover["key"] as? String == "none")
            let streamed = try #require(access.first { $0["request_id"] as? String == ids[1] })
            #expect(streamed["ttft_ms"] is Double)
            #expect(streamed["output_tokens"] as? Int == 2)
            #expect(streamed["estimated"] as? Bool == false)
            await database.close()
        }
    }

    @Test func theCommandLineChoosesTheFormatAndARefusedKeyHasALine() async throws {
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi"])))
        let yaml = { @Sendable (port: Int) in
            """
            auth: {master_key: mp-master-ACCESS0123456789abcdef}
            providers:
              fake: {type: openai, base_url: "http://127.0.0.1:\(port)/v1", locality: local}
            models:
              small: {provider: fake}
            """
        }
        let arguments = ["--log-format", "json"]
        try await withServingGatewayProcess(upstream: upstream, arguments: arguments, yaml: yaml) { gateway, client in
            let key = [("authorization", "Bearer mp-master-ACCESS0123456789abcdef")]
            #expect(
                try await client.send(body: #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#, headers: key).status == 200
            )
            // Refused for its key: no ledger row, but an access line.
            let refused = try await client.send(body: #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(refused.status == 401)
            try await waitFor(limit: .seconds(10)) { gateway.log.components(separatedBy: "multiprodigy.access").count == 3 }
            let access = Self.jsonLines(gateway.log).filter { $0["logger"] as? String == "multiprodigy.access" }
            #expect(access.map { $0["status"] as? Int } == [200, 401])
            #expect(access.map { $0["key"] as? String } == ["master", "none"])
            #expect(!gateway.log.contains("ACCESS0123"))
        }
        let refused = GatewayProcess(arguments: ["serve", "--log-format", "yaml"])
        let (status, output) = try await refused.runToExit()
        #expect(status != 0)
        #expect(output.contains("--log-format 'yaml' is not text or json"))
    }
}
