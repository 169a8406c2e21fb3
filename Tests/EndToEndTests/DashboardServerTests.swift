import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// `/ui`: the dashboard's login, sessions and CSRF guard, and the JSON its pages read, checked against the
/// ledger after real traffic (a failover, a continued stream, a refusal). The pages themselves are driven by a
/// real browser in tests-python/test_dashboard.py.
@Suite struct DashboardServerTests {
    static let master = "mp-master-DASHBOARD0123456789abcdef"

    /// The value of the cookie `name` among a reply's `set-cookie` headers, and the header itself.
    static func cookie(_ name: String, in reply: GatewayClient.Reply) -> (value: String, header: String)? {
        for header in reply.headers["set-cookie"] where header.hasPrefix(name + "=") {
            let value = header.dropFirst(name.count + 1).prefix { $0 != ";" }
            return (String(value), header)
        }
        return nil
    }

    /// The value of `<input … name="name" value="…">` or `<meta name="name" content="…">` in a page.
    static func field(_ name: String, attribute: String, in page: String) -> String? {
        guard let start = page.range(of: "name=\"\(name)\"") else { return nil }
        let rest = page[start.upperBound...]
        guard let value = rest.range(of: "\(attribute)=\"") else { return nil }
        return String(rest[value.upperBound...].prefix { $0 != "\"" })
    }

    /// Logs in through the form; the session cookie and the page's CSRF token.
    static func logIn(_ client: GatewayClient, master: String = DashboardServerTests.master) async throws -> (session: String, csrf: String)
    {
        let form = try await client.send(.GET, "/ui/login")
        let loginCookie = try #require(cookie("mp_login", in: form)).value
        let token = try #require(field("csrf", attribute: "value", in: form.body))
        let login = try await client.send(
            .POST,
            "/ui/login",
            body: "key=\(master)&csrf=\(token)",
            headers: [("content-type", "application/x-www-form-urlencoded"), ("cookie", "mp_login=\(loginCookie)")]
        )
        #expect(login.status == 303)
        let session = try #require(cookie("mp_session", in: login))
        let app = try await client.send(.GET, "/ui/", headers: [("cookie", "mp_session=\(session.value)")])
        #expect(app.status == 200)
        let csrf = try #require(field("csrf-token", attribute: "content", in: app.body))
        return (session.value, csrf)
    }

    @Test func onlyTheMasterKeyLogsInAndEveryChangeNeedsTheSessionsToken() async throws {
        let yaml = """
            auth: {master_key: \(Self.master)}
            providers:
            \(fakeProvider("fake", index: 0))
            models:
              small: {provider: fake}
            """
        try await withGateway(upstreams: [FakeUpstream(.stream(events: FakeUpstream.stream(["Hi"])))], yaml: yaml) { gatewayClient in
            let client = GatewayClient(port: gatewayClient.port, followsRedirects: false)
            // Without a session: the login page.
            let anonymous = try await client.send(.GET, "/ui")
            #expect(anonymous.status == 303)
            #expect(anonymous.headers.first(name: "location") == "/ui/login")
            #expect(try await client.send(.GET, "/ui/api/overview").status == 401)
            // A bearer key is not a session: the dashboard's API reads only its cookie.
            let bearer = try await client.send(.GET, "/ui/api/overview", headers: [("authorization", "Bearer \(Self.master)")])
            #expect(bearer.status == 401)
            #expect(bearer.error["code"] as? String == "session_expired")

            let form = try await client.send(.GET, "/ui/login")
            #expect(form.status == 200)
            #expect(form.headers.first(name: "content-security-policy")?.contains("script-src 'self'") == true)
            #expect(form.headers.first(name: "x-frame-options") == "DENY")
            let loginCookie = try #require(Self.cookie("mp_login", in: form)).value
            let token = try #require(Self.field("csrf", attribute: "value", in: form.body))
            #expect(token == loginCookie)
            let formHeaders = [("content-type", "application/x-www-form-urlencoded"), ("cookie", "mp_login=\(loginCookie)")]

            // A form without the page's token is refused; so is a wrong key.
            let forged = try await client.send(.POST, "/ui/login", body: "key=\(Self.master)&csrf=guess", headers: formHeaders)
            #expect(forged.status == 403)
            #expect(Self.cookie("mp_session", in: forged) == nil)
            let wrong = try await client.send(.POST, "/ui/login", body: "key=mp-master-WRONG&csrf=\(token)", headers: formHeaders)
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("That is not the gateway&#39;s master key."))
            #expect(!wrong.body.contains("mp-master-WRONG"))
            #expect(Self.cookie("mp_session", in: wrong) == nil)

            let login = try await client.send(.POST, "/ui/login", body: "key=\(Self.master)&csrf=\(token)", headers: formHeaders)
            #expect(login.status == 303)
            let session = try #require(Self.cookie("mp_session", in: login))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
                #expect(session.header.contains(attribute), "\(session.header)")
            }
            let cookie = ("cookie", "mp_session=\(session.value)")
            let app = try await client.send(.GET, "/ui/", headers: [cookie])
            #expect(app.status == 200)
            let csrf = try #require(Self.field("csrf-token", attribute: "content", in: app.body))
            #expect(csrf.count == 64 && csrf != session.value)
            #expect(!app.body.contains(Self.master))
            #expect(try await client.send(.GET, "/ui/app.js").status == 200)
            #expect(try await client.send(.GET, "/ui/app.css").headers.first(name: "content-type")?.hasPrefix("text/css") == true)

            // Reads need the session; changes need its token too. HEAD is a read.
            #expect(try await client.send(.HEAD, "/ui/api/keys", headers: [cookie]).status == 200)
            #expect(try await client.send(.HEAD, "/ui/api/keys").status == 401)
            #expect(try await client.send(.GET, "/ui/api/keys", headers: [cookie]).status == 200)
            let create = #"{"name":"from-dashboard"}"#
            let noToken = try await client.send(.POST, "/ui/api/keys", body: create, headers: [cookie])
            #expect(noToken.status == 403)
            #expect(noToken.error["code"] as? String == "csrf_failed")
            let otherToken = try await client.send(.POST, "/ui/api/keys", body: create, headers: [cookie, ("x-csrf-token", session.value)])
            #expect(otherToken.status == 403)
            let created = try await client.send(.POST, "/ui/api/keys", body: create, headers: [cookie, ("x-csrf-token", csrf)])
            #expect(created.status == 201, "\(created.body)")
            let secret = try #require(created.json["key"] as? String)
            let chat = #"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#
            #expect(try await client.send(body: chat, headers: [("authorization", "Bearer \(secret)")]).status == 200)
            let revoked = try await client.send(.DELETE, "/ui/api/keys/from-dashboard", headers: [cookie, ("x-csrf-token", csrf)])
            #expect(revoked.status == 200, "\(revoked.body)")
            #expect(try await client.send(body: chat, headers: [("authorization", "Bearer \(secret)")]).status == 401)
            #expect(try await client.send(.DELETE, "/ui/api/keys/from-dashboard", headers: [cookie]).status == 403)

            // Logout needs the token; after it the cookie opens nothing.
            let form2 = [("content-type", "application/x-www-form-urlencoded"), cookie]
            #expect(try await client.send(.POST, "/ui/logout", body: "csrf=guess", headers: form2).status == 403)
            #expect(try await client.send(.GET, "/ui/api/keys", headers: [cookie]).status == 200)
            let logout = try await client.send(.POST, "/ui/logout", body: "csrf=\(csrf)", headers: form2)
            #expect(logout.status == 303)
            #expect(logout.headers.first(name: "location") == "/ui/login")
            #expect(try await client.send(.GET, "/ui/api/keys", headers: [cookie]).status == 401)
            #expect(try await client.send(.GET, "/ui/", headers: [cookie]).status == 303)
        }
    }

    @Test func pathsThatLookLikeTheDashboardsReachNothingElseAndItsBodiesNeedASession() async throws {
        let yaml = """
            auth: {master_key: \(Self.master)}
            providers:
            \(fakeProvider("fake", index: 0))
            models:
              small: {provider: fake}
            """
        try await withGateway(upstreams: [FakeUpstream(.stream(events: FakeUpstream.stream(["Hi"])))], yaml: yaml) { gatewayClient in
            let client = GatewayClient(port: gatewayClient.port, followsRedirects: false)
            // The middleware leaves /ui to the dashboard; nothing else may be reached through it.
            for path in ["//ui/../admin/keys", "/ui/../admin/keys", "/ui/%2e%2e/admin/keys", "/ui%2f..%2fadmin/keys", "/UI/api/keys"] {
                let reply = try await client.send(.GET, path)
                #expect([401, 404].contains(reply.status), "\(path): \(reply.status)")
                #expect(!reply.body.contains("\"data\""), "\(path) listed keys")
            }
            // A body sent to the dashboard without a session is answered from the head, unread.
            let connection = try await RawConnection.open(port: client.port)
            try await connection.send(
                "POST /ui/api/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8000000\r\n\r\n{"
            )
            try await waitFor(limit: .seconds(10)) { connection.text.contains("\r\n\r\n") }
            #expect(connection.text.hasPrefix("HTTP/1.1 401"), "\(connection.text)")
            await connection.close()
            // A login form larger than a login form, or of unknown length, is not read either.
            let large = try await client.send(
                .POST,
                "/ui/login",
                body: "key=" + String(repeating: "a", count: 20_000),
                headers: [("content-type", "application/x-www-form-urlencoded")]
            )
            #expect(large.status == 403)
        }
    }

    @Test func aGatewayWithoutAMasterKeyHasNoDashboard() async throws {
        let yaml = """
            providers:
            \(fakeProvider("fake", index: 0))
            models:
              small: {provider: fake}
            """
        try await withGateway(upstreams: [FakeUpstream(.stream(events: FakeUpstream.stream(["Hi"])))], yaml: yaml) { gatewayClient in
            let client = GatewayClient(port: gatewayClient.port, followsRedirects: false)
            for path in ["/ui", "/ui/login"] {
                let reply = try await client.send(.GET, path)
                #expect(reply.status == 404)
                #expect(reply.body.contains("auth.master_key"))
            }
            #expect(try await client.send(.POST, "/ui/login", body: "key=x&csrf=y").status == 404)
            #expect(try await client.send(.GET, "/ui/api/overview").status == 401)
        }
    }

    @Test func theFiguresAreTheLedgersAndEachRowShowsItsPath() async throws {
        // `broken` answers 500; `cut` streams a start and stops without [DONE]; `fake` answers in full.
        let upstream = FakeUpstream(
            .byPath(
                [
                    ("/broken/", FakeBehaviourBox(.respond(status: .internalServerError, body: #"{"error":{"message":"boom"}}"#))),
                    (
                        "/cut/",
                        FakeBehaviourBox(.stream(events: [FakeUpstream.roleChunk(), FakeUpstream.contentChunk("Hello")], done: false))
                    ),
                ],
                otherwise: FakeBehaviourBox(
                    .stream(events: FakeUpstream.stream(["Hello", " world"]) + [FakeUpstream.usageChunk()])
                )
            )
        )
        let yaml = """
            auth: {master_key: \(Self.master)}
            providers:
              fake: {type: openai, base_url: "http://127.0.0.1:{PORT0}/v1", locality: local}
              broken: {type: openai, base_url: "http://127.0.0.1:{PORT0}/broken/v1", locality: local}
              cut: {type: openai, base_url: "http://127.0.0.1:{PORT0}/cut/v1", locality: local}
            models:
              small: {provider: fake, price: {input: 1, output: 2}}
              bad: {provider: broken}
              flaky: {provider: cut}
            routes:
              failing_over: {targets: [bad, small]}
              continued: {targets: [flaky, small]}
            """
        try await withGateway(upstreams: [upstream], yaml: yaml) { gatewayClient in
            let client = GatewayClient(port: gatewayClient.port, followsRedirects: false)
            let key = ("authorization", "Bearer \(Self.master)")
            let chat = { (model: String, stream: Bool) in
                #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
            }
            #expect(try await client.send(body: chat("small", false), headers: [key]).status == 200)
            #expect(try await client.send(body: chat("small", true), headers: [key]).status == 200)
            #expect(try await client.send(body: chat("failing_over", false), headers: [key]).status == 200)
            let continued = try await client.send(body: chat("continued", true), headers: [key])
            #expect(continued.status == 200)
            #expect(continued.body.contains("[DONE]"))
            #expect(try await client.send(body: chat("nothing", false), headers: [key]).status == 404)

            let (session, _) = try await Self.logIn(client)
            let cookie = ("cookie", "mp_session=\(session)")
            // The ledger commits its rows within its commit interval (25 ms); the pages read what is committed.
            for _ in 0..<100 {
                let page = try await client.send(.GET, "/ui/api/requests", headers: [cookie])
                if (page.json["rows"] as? [[String: Any]])?.count == 5 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let overview = try await client.send(.GET, "/ui/api/overview?window=15m", headers: [cookie])
            #expect(overview.status == 200)
            let totals = try #require(overview.json["totals"] as? [String: Any])
            #expect(totals["requests"] as? Int == 5)
            #expect(totals["errors"] as? Int == 1)
            #expect(totals["failovers"] as? Int == 2, "the failover and the continuation each tried two targets")
            #expect(totals["continuations"] as? Int == 1)
            #expect((totals["latency_p95"] as? Double ?? 0) > 0)
            #expect(totals["ttft_p50"] is Double)
            // This replica's counters, as /metrics has them: five requests, two moves to another target.
            let sinceStart = try #require(overview.json["since_start"] as? [String: Any])
            #expect(sinceStart["requests"] as? Int == 5)
            #expect(sinceStart["failovers"] as? Int == 2)
            #expect((sinceStart["continuations"] as? Int ?? 0) >= 1)
            let series = try #require(overview.json["series"] as? [[String: Any]])
            #expect(series.count == 30)
            #expect(series.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 5)
            let byRoute = try #require((overview.json["by"] as? [String: Any])?["route"] as? [[String: Any]])
            #expect(
                Set(byRoute.compactMap { $0["name"] as? String }) == ["small", "failing_over", "continued", "-"],
                "an unknown model is route -, as in the ledger"
            )
            #expect(byRoute.first?["name"] as? String == "small")
            #expect(byRoute.first?["requests"] as? Int == 2)
            let filtered = try await client.send(.GET, "/ui/api/overview?window=24h&route=failing_over", headers: [cookie])
            let filteredTotals = try #require(filtered.json["totals"] as? [String: Any])
            #expect(filteredTotals["requests"] as? Int == 1)
            #expect(filtered.json["bucket_seconds"] as? Double == 1800)

            // Requests, newest first, with the path each took.
            let page = try await client.send(.GET, "/ui/api/requests?limit=50", headers: [cookie])
            let rows = try #require(page.json["rows"] as? [[String: Any]])
            #expect(rows.count == 5)
            #expect(page.json["next"] is NSNull)
            #expect(rows.map { $0["route"] as? String } == ["-", "continued", "failing_over", "small", "small"])
            #expect(rows[2]["path"] as? [String] == ["bad:server", "bad:server", "small:ok"])
            #expect(rows[2]["attempts"] as? Int == 3)
            let continuedPath = try #require(rows[1]["path"] as? [String])
            #expect(continuedPath.first?.hasPrefix("flaky:cut_") == true, "\(continuedPath)")
            #expect(continuedPath.last == "small:ok")
            #expect(rows[3]["path"] as? [String] == ["small:ok"])
            #expect(rows[0]["path"] as? [String] == [])
            #expect(!page.body.contains("\"hi\"") && !page.body.contains("Hello"), "no prompt, no answer")
            // Pages and filters.
            let first = try await client.send(.GET, "/ui/api/requests?limit=2", headers: [cookie])
            let next = try #require(first.json["next"] as? Int)
            let second = try await client.send(.GET, "/ui/api/requests?limit=2&before=\(next)", headers: [cookie])
            let secondRows = try #require(second.json["rows"] as? [[String: Any]])
            #expect(secondRows.map { $0["route"] as? String } == ["failing_over", "small"])
            let errors = try await client.send(.GET, "/ui/api/requests?status=error", headers: [cookie])
            #expect((errors.json["rows"] as? [[String: Any]])?.map { $0["status"] as? Int } == [404])
            let byModel = try await client.send(.GET, "/ui/api/requests?model=small&api=chat&status=200", headers: [cookie])
            #expect((byModel.json["rows"] as? [[String: Any]])?.count == 4)

            // Targets: every declared model, with its recent errors by kind.
            let targets = try await client.send(.GET, "/ui/api/targets", headers: [cookie])
            let list = try #require(targets.json["targets"] as? [[String: Any]])
            #expect(list.compactMap { $0["target"] as? String }.sorted() == ["bad", "flaky", "small"])
            let bad = try #require(list.first { $0["target"] as? String == "bad" })
            #expect((bad["errors"] as? [String: Any])?["server"] as? Int == 2)
            #expect(bad["breaker"] as? String == "closed")
            let small = try #require(list.first { $0["target"] as? String == "small" })
            #expect(small["predicted_latency_seconds"] is Double)
            #expect((small["errors"] as? [String: Any])?.isEmpty == true)

            let routes = try await client.send(.GET, "/ui/api/routes", headers: [cookie])
            #expect(
                (routes.json["routes"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted() == ["continued", "failing_over"]
            )
            let explained = try await client.send(
                .POST,
                "/ui/api/route",
                body: chat("failing_over", false),
                headers: [cookie, ("x-csrf-token", try await Self.csrf(client, session: session)), ("x-multiprodigy-policy", "cost")]
            )
            #expect(explained.status == 200, "\(explained.body)")
            #expect(explained.body.contains("\"small\""))
        }
    }

    /// The CSRF token of a live session.
    static func csrf(_ client: GatewayClient, session: String) async throws -> String {
        let app = try await client.send(.GET, "/ui/", headers: [("cookie", "mp_session=\(session)")])
        return try #require(field("csrf-token", attribute: "content", in: app.body))
    }
}
