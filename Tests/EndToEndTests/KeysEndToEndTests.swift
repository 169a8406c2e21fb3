import Foundation
import Testing

@testable import MultiProdigyAccounting

/// Virtual keys through the real server: their lifecycle over `/admin/keys`, budgets and rate
/// limits under concurrent requests, their routes and privacy, and the ledger rows they leave.
@Suite struct KeysEndToEndTests {
    private static let master = "test-master-key"
    private static let masterHeader = [("authorization", "Bearer \(master)")]

    /// A cloud model at 1 USD per answer token (and nothing per prompt token), and a local one.
    private static func yaml(storage: String? = nil) -> String {
        """
        auth: {master_key: \(master)}
        \(storage.map { "storage: sqlite:\($0)" } ?? "")
        providers:
        \(fakeProvider("cloud", index: 0, locality: "cloud"))\(fakeProvider("local", index: 1))
        models:
          paid: {provider: cloud, price: {input: 0, output: 1000000}}
          llama: {provider: local}
        routes:
          auto: {targets: [paid], fallback: [llama]}
        """
    }

    private static func createKey(_ gateway: GatewayClient, _ settings: String) async throws -> String {
        let reply = try await gateway.send(.POST, "/admin/keys", body: settings, headers: masterHeader)
        #expect(reply.status == 201, "\(reply.body)")
        return try #require(reply.json["key"] as? String)
    }

    private static func chat(
        _ gateway: GatewayClient,
        key: String,
        model: String = "paid",
        maxTokens: Int = 4
    ) async throws -> GatewayClient.Reply {
        try await gateway.send(
            body: #"{"model":"\#(model)","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"hi"}]}"#,
            headers: [("authorization", "Bearer \(key)")]
        )
    }

    @Test func aKeyIsCreatedShownOnceUsedAndRevoked() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let created = try await gateway.send(
                .POST,
                "/admin/keys",
                body: #"{"name":"team-a","budget":"50usd/month","rpm":600,"routes":["paid","auto"]}"#,
                headers: Self.masterHeader
            )
            #expect(created.status == 201)
            let secret = try #require(created.json["key"] as? String)
            #expect(secret.hasPrefix("mp-") && secret.count == 46)
            #expect(created.json["name"] as? String == "team-a")

            let reply = try await Self.chat(gateway, key: secret)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-cost-usd") == "4")
            // Anthropic-style clients send it as x-api-key.
            let viaHeader = try await gateway.send(
                body: #"{"model":"paid","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("x-api-key", secret)]
            )
            #expect(viaHeader.status == 200)

            let listed = try await gateway.send(.GET, "/admin/keys", headers: Self.masterHeader)
            #expect(listed.status == 200)
            #expect(!listed.body.contains(secret), "the secret is shown once, at creation")
            let key = try #require((listed.json["data"] as? [[String: Any]])?.first)
            #expect(key["spent_usd"] as? Double == 8)
            #expect(key["prefix"] as? String == String(secret.prefix(8)))

            // It sees only its routes.
            let models = try await gateway.send(.GET, "/v1/models", headers: [("authorization", "Bearer \(secret)")])
            #expect(Set((models.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == ["paid", "auto"])
            #expect(try await gateway.send(.GET, "/v1/models/llama", headers: [("authorization", "Bearer \(secret)")]).status == 404)

            // The same key may not manage keys, nor use a model outside its routes.
            let admin = try await gateway.send(.GET, "/admin/keys", headers: [("authorization", "Bearer \(secret)")])
            #expect(admin.status == 403)
            let elsewhere = try await Self.chat(gateway, key: secret, model: "llama")
            #expect(elsewhere.status == 403)
            #expect(elsewhere.error["code"] as? String == "model_not_allowed")

            let revoked = try await gateway.send(.DELETE, "/admin/keys/team-a", headers: Self.masterHeader)
            #expect(revoked.status == 200)
            #expect(revoked.json["revoked_at"] is String)
            let refused = try await Self.chat(gateway, key: secret)
            #expect(refused.status == 401)
            #expect((refused.error["message"] as? String)?.contains("revoked") == true)
            #expect(try await gateway.send(.DELETE, "/admin/keys/team-a", headers: Self.masterHeader).status == 400)
            #expect(try await gateway.send(.DELETE, "/admin/keys/nobody", headers: Self.masterHeader).status == 404)

            // Neither a made-up key nor no key gets in when the gateway has a master key, whatever
            // the spelling of the path (the router ignores empty segments).
            #expect(try await Self.chat(gateway, key: "mp-made-up").status == 401)
            #expect(try await gateway.send(.GET, "/admin/keys").status == 401)
            for path in ["//admin/keys", "/admin//keys", "/admin/keys/"] {
                #expect(try await gateway.send(.POST, path, body: #"{"name":"sneaky"}"#).status == 401, "\(path)")
            }
            let sneaky = try await gateway.send(
                .POST,
                "//v1/chat/completions",
                body: #"{"model":"paid","messages":[{"role":"user","content":"hi"}]}"#
            )
            #expect(sneaky.status == 401)
            // A virtual key cannot reach the admin endpoints by another spelling either.
            #expect(try await gateway.send(.GET, "//admin/keys", headers: [("authorization", "Bearer \(secret)")]).status != 200)
        }
    }

    @Test func eachBudgetsUseIsAGaugeThatFallsToZeroWhenTheKeyIsRevoked() async throws {
        // 4 completion tokens at 1 USD each: 4 USD of a 10 USD budget per answer.
        let upstream = FakeUpstream(.stream(events: FakeUpstream.stream(["Hi", "!"]) + [FakeUpstream.usageChunk()]))
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"team-b","budget":"10usd/month"}"#)
            _ = try await Self.createKey(gateway, #"{"name":"no-budget"}"#)
            func ratio() async throws -> Double? {
                PrometheusText(try await gateway.send(.GET, "/metrics").body).value("multiprodigy_key_budget_used_ratio", ["key": "team-b"])
            }
            #expect(try await ratio() == 0)
            #expect(try await Self.chat(gateway, key: secret).status == 200)
            #expect(try await ratio() == 0.2, "2 completion tokens at 1 USD of 10 USD")
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            #expect(metrics.value("multiprodigy_key_budget_used_ratio", ["key": "no-budget"]) == nil)
            #expect(try await gateway.send(.DELETE, "/admin/keys/team-b", headers: Self.masterHeader).status == 200)
            #expect(try await ratio() == 0, "a revoked key's budget is spent by no one")
        }
    }

    @Test func badKeySettingsAre400sThatSayWhy() async throws {
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: Self.yaml()) { gateway in
            for (body, fragment) in [
                (#"{"budget":"5usd/month"}"#, "name"),
                (#"{"name":"x","budget":"lots"}"#, "Budget 'lots'"),
                (#"{"name":"x","rpm":0}"#, "at least 1"),
                (#"{"name":"x","privacy":"cloud"}"#, "local"),
                (#"{"name":"x","colour":"blue"}"#, "colour"),
                (#"{"name":"master"}"#, "reserved"),
                (#"{"name":"x","budget":50}"#, "budget"),
                (#"{"name":"x","privacy":true}"#, "privacy"),
                (#"{"name":"x","routes":{"a":1}}"#, "routes"),
                (#"{"name":"x","routes":["a",1]}"#, "routes"),
                (#"{"name":"x","rpm":"600"}"#, "rpm"),
                ("not json", "JSON"),
            ] {
                let reply = try await gateway.send(.POST, "/admin/keys", body: body, headers: Self.masterHeader)
                #expect(reply.status == 400, "\(body)")
                #expect((reply.error["message"] as? String)?.contains(fragment) == true, "\(body): \(reply.body)")
            }
        }
    }

    @Test func anOpenGatewayManagesNoKeysOverHTTP() async throws {
        let yaml = Self.yaml().replacingOccurrences(of: "auth: {master_key: \(Self.master)}", with: "")
        try await withGateway(upstreams: [FakeUpstream(), FakeUpstream()], yaml: yaml) { gateway in
            let reply = try await gateway.send(.POST, "/admin/keys", body: #"{"name":"x"}"#)
            #expect(reply.status == 403)
            #expect(reply.error["code"] as? String == "master_key_required")
        }
    }

    @Test func aBudgetHoldsUnderConcurrentRequests() async throws {
        // Each answer uses 4 tokens at 1 USD: 4 USD, exactly its estimate (max_tokens 4, prompts free).
        let upstream = FakeUpstream(
            .delayed(.milliseconds(50), then: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion())))
        )
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"team-b","budget":"18usd/month"}"#)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await Self.chat(gateway, key: secret).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // Admitted while spent + reserved < 18: 0, 4, 8, 12, 16. The fifth overspends by one estimate.
            #expect(statuses.filter { $0 == 200 }.count == 5)
            #expect(statuses.filter { $0 == 429 }.count == 15)
            #expect(upstream.requests.count == 5, "refused requests never reach the provider")
            let after = try await Self.chat(gateway, key: secret)
            #expect(after.status == 429)
            #expect(after.error["code"] as? String == "budget_exceeded")
            #expect(after.error["type"] as? String == "insufficient_quota")
            #expect(after.headers.first(name: "x-should-retry") == "false")
            let listed = try await gateway.send(.GET, "/admin/keys", headers: Self.masterHeader)
            let spent = try #require((listed.json["data"] as? [[String: Any]])?.first?["spent_usd"] as? Double)
            #expect(spent == 20)
            #expect(spent <= 18 + 4)
            let metrics = PrometheusText(try await gateway.send(.GET, "/metrics").body)
            #expect(metrics.value("multiprodigy_rejected_requests_total", ["key": "team-b", "reason": "budget_exceeded"]) == 16)
            #expect(metrics.value("multiprodigy_cost_usd_total", ["key": "team-b"]) == 20)
        }
    }

    @Test func aBudgetedKeyCannotUseAModelWithoutAPrice() async throws {
        let cloud = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [cloud, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let budgeted = try await Self.createKey(gateway, #"{"name":"careful","budget":"5usd/month"}"#)
            let refused = try await Self.chat(gateway, key: budgeted, model: "cloud/some-unpriced-model")
            #expect(refused.status == 400)
            #expect(refused.error["code"] as? String == "unpriced_model")
            #expect(cloud.requests.isEmpty)
            // Without a budget there is nothing to keep, and the request goes.
            let free = try await Self.createKey(gateway, #"{"name":"carefree"}"#)
            #expect(try await Self.chat(gateway, key: free, model: "cloud/some-unpriced-model").status == 200)
        }
    }

    @Test func requestsPerMinuteAreCountedUnderConcurrency() async throws {
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"slow","rpm":3}"#)
            let replies = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
                for _ in 0..<10 { group.addTask { try await Self.chat(gateway, key: secret) } }
                return try await group.reduce(into: [GatewayClient.Reply]()) { $0.append($1) }
            }
            #expect(replies.filter { $0.status == 200 }.count == 3)
            let refused = try #require(replies.first { $0.status == 429 })
            #expect(refused.error["code"] as? String == "rate_limit_exceeded")
            let retryAfter = try #require(refused.headers.first(name: "retry-after").flatMap(Int.init))
            #expect((15...20).contains(retryAfter), "a request's worth comes back every 20 s")
        }
    }

    @Test func tokensPerMinuteReserveEachRequestsEstimate() async throws {
        let upstream = FakeUpstream(
            .delayed(.seconds(1), then: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion())))
        )
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"tokens","tpm":100}"#)
            // Each reserves its prompt and max_tokens 50, about 60 tokens: the first two fit in 100.
            // The upstream holds each answer a second, so all five are in flight together.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<5 { group.addTask { try await Self.chat(gateway, key: secret, maxTokens: 50).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 2)
            #expect(statuses.filter { $0 == 429 }.count == 3)
        }
    }

    @Test func aLocalOnlyKeyNeverReachesTheCloud() async throws {
        let cloud = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        let local = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        try await withGateway(upstreams: [cloud, local], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"private","privacy":"local"}"#)
            let reply = try await Self.chat(gateway, key: secret, model: "auto")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-multiprodigy-model") == "llama")
            #expect(reply.headers.first(name: "x-multiprodigy-route")?.contains("private=key") == true)
            #expect(cloud.requests.isEmpty)
            // The master key is not restricted.
            let master = try await gateway.send(
                body: #"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#,
                headers: Self.masterHeader
            )
            #expect(master.headers.first(name: "x-multiprodigy-model") == "paid")
        }
    }

    @Test func everyRequestLeavesALedgerRow() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("mp-ledger-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm", "-usage-journal"] { try? FileManager.default.removeItem(atPath: storage + suffix) } }
        let upstream = FakeUpstream(.respond(status: .ok, body: FakeUpstream.completion()))
        var requestIDs: [String] = []
        try await withGateway(upstreams: [upstream, FakeUpstream()], yaml: Self.yaml(storage: storage)) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"team-c"}"#)
            for _ in 0..<3 {
                let reply = try await Self.chat(gateway, key: secret)
                requestIDs.append(try #require(reply.headers.first(name: "x-multiprodigy-request-id")))
            }
            #expect(try await Self.chat(gateway, key: secret, model: "nope").status == 404)
        }
        let ledger = try UsageLedger(database: try await GatewayDatabase.open(path: storage), logger: .init(label: "test"))
        let byKey = try await ledger.summary(since: .distantPast, by: .key)
        let row = try #require(byKey.first { $0.group == "team-c" })
        #expect(row.requests == 4)
        #expect(row.errors == 1)
        #expect(row.promptTokens == 27 && row.completionTokens == 12)
        #expect(row.costUSD == 12)
        let byModel = try await ledger.summary(since: .distantPast, by: .model)
        #expect(byModel.first { $0.group == "paid" }?.requests == 3)
        _ = requestIDs
    }

    @Test(arguments: [false, true])
    func failedRequestsGiveTheirReservationBack(stream: Bool) async throws {
        // Each request reserves 4 USD of an 18 USD budget; if failures kept theirs, the fifth would be a 429.
        let refusing = FakeUpstream(.respond(status: .badRequest, body: #"{"error":{"message":"no","type":"invalid_request_error"}}"#))
        try await withGateway(upstreams: [refusing, FakeUpstream()], yaml: Self.yaml()) { gateway in
            let secret = try await Self.createKey(gateway, #"{"name":"unlucky","budget":"18usd/month"}"#)
            for _ in 0..<8 {
                let reply = try await gateway.send(
                    body: #"{"model":"paid","max_tokens":4,"stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#,
                    headers: [("authorization", "Bearer \(secret)")]
                )
                #expect(reply.status == 400)
            }
        }
    }
}
