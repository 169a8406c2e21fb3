import Foundation
import Testing

/// Thousands of mixed requests, some carrying personal data or asking for privacy, against a cloud
/// fake and a local fake that fails now and then: the cloud fake's record proves that nothing
/// private ever reached it, failover included.
@Suite struct PrivacyRoutingTests {
    /// One kind of request; `isPrivate` says whether it must stay local.
    struct Kind: Sendable {
        let name: String
        let isPrivate: Bool
        let content: String
        var model = "auto"
        var headers: [(String, String)] = []
        var extra = ""
    }

    static let kinds: [Kind] = [
        Kind(name: "plain", isPrivate: false, content: "Summarise the plot of Hamlet in 3 lines, 1603 edition, chapter 4.2."),
        Kind(name: "numbers", isPrivate: false, content: "Order 12345678 shipped on 2024-05-17 for $1,234.56; call back at 10:30."),
        Kind(name: "email", isPrivate: true, content: "Forward this to maria.lopez@example.org before noon."),
        Kind(name: "phone", isPrivate: true, content: "Call me on +44 20 7946 0958 tomorrow."),
        Kind(name: "card", isPrivate: true, content: "My card is 4111-1111-1111-1111, expiry 09/27."),
        Kind(name: "iban", isPrivate: true, content: "Wire it to DE89 3704 0044 0532 0130 00 please."),
        Kind(name: "ssn", isPrivate: true, content: "Her SSN is 123-45-6789."),
        Kind(name: "key", isPrivate: true, content: "Why does sk-proj-Q2w3E4r5T6y7U8i9O0pAsDfGhJkL fail with 401?"),
        Kind(
            name: "private-key",
            isPrivate: true,
            content: #"Is this valid?\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v\n-----END RSA PRIVATE KEY-----"#
        ),
        Kind(name: "header", isPrivate: true, content: "Nothing special here.", headers: [("x-multiprodigy-privacy", "local")]),
        Kind(name: "body", isPrivate: true, content: "Nothing special either.", extra: #","multiprodigy":{"privacy":"local"}"#),
        Kind(name: "route", isPrivate: true, content: "Routed privately.", model: "priv"),
        Kind(name: "override", isPrivate: true, content: "Policy override.", headers: [("x-multiprodigy-policy", "privacy")]),
        Kind(
            name: "route-ranked-by-cost",
            isPrivate: true,
            content: "Cheaper please.",
            model: "priv",
            headers: [("x-multiprodigy-policy", "cost")]
        ),
        Kind(
            name: "route-ranked-as-listed",
            isPrivate: true,
            content: "In order.",
            model: "priv",
            extra: #","multiprodigy":{"policy":"ordered"}"#
        ),
        Kind(name: "direct-cloud-pii", isPrivate: true, content: "Send to bob@example.com", model: "gpt"),
    ]

    @Test func noPrivatePromptEverReachesTheCloudAcrossThousandsOfMixedRequests() async throws {
        let answer = FakeUpstream.answer
        let cloud = FakeUpstream(answer)
        let local = FakeUpstream(answer)
        // The local target fails now and then, so private requests meet failover too.
        local.script(
            (0..<3000).map { $0 % 9 == 4 ? .respond(status: .serviceUnavailable, body: #"{"error":{"message":"busy"}}"#) : answer }
        )
        let yaml = """
            providers:
            \(fakeProvider("cloud-p", index: 0, locality: "cloud"))\(fakeProvider("local-p", index: 1))
            models:
              gpt: {provider: cloud-p, price: {input: 0.15, output: 0.6}}
              llama: {provider: local-p}
            routes:
              auto: {policy: cost, targets: [gpt], fallback: [llama]}
              priv: {policy: privacy, targets: [gpt, llama], fallback: [gpt]}
            """
        let total = 2800
        try await withGateway(upstreams: [cloud, local], yaml: yaml) { gateway in
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
                var results: [(Int, Int, String?)] = []
                for index in 0..<total {
                    if index >= 32 { results.append(try await group.next()!) }
                    group.addTask {
                        let kind = Self.kinds[index % Self.kinds.count]
                        let stream = index % 2 == 1
                        let body =
                            #"{"model":"\#(kind.model)","messages":[{"role":"user","content":"[m-\#(index)] \#(kind.content)"}],"stream":\#(stream)\#(kind.extra)}"#
                        let reply = try await gateway.send(body: body, headers: kind.headers)
                        return (index, reply.status, reply.headers.first(name: "x-multiprodigy-model"))
                    }
                }
                while let result = try await group.next() { results.append(result) }
                return results
            }
            #expect(outcomes.count == total)
            var cloudMarkers = Set<Int>()
            for request in cloud.requests {
                let text = request.bodyString
                guard let start = text.range(of: "[m-"), let end = text[start.upperBound...].firstIndex(of: "]"),
                    let index = Int(text[start.upperBound..<end])
                else {
                    Issue.record("a cloud request without a marker: \(text.prefix(200))")
                    continue
                }
                cloudMarkers.insert(index)
                let kind = Self.kinds[index % Self.kinds.count]
                #expect(!kind.isPrivate, "private request m-\(index) (\(kind.name)) reached the cloud")
            }
            let publicCount = (0..<total).filter { !Self.kinds[$0 % Self.kinds.count].isPrivate }.count
            #expect(cloudMarkers.count == publicCount, "every ordinary request goes to the cheaper cloud target")
            for (index, status, model) in outcomes {
                let kind = Self.kinds[index % Self.kinds.count]
                if kind.isPrivate {
                    #expect(model != "gpt", "m-\(index) (\(kind.name)) answered by the cloud model")
                    #expect(status == 200 || status == 503, "m-\(index) (\(kind.name)) got \(status)")
                } else {
                    #expect(status == 200 && model == "gpt")
                }
            }
            // The gateway stays healthy afterwards.
            #expect(try await gateway.chat("auto").status == 200)
        }
    }
}
