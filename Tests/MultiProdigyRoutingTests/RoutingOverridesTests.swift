import NIOCore
import Testing

@testable import MultiProdigyJSON
@testable import MultiProdigyRouting
@testable import MultiProdigyCore

@Suite struct RoutingOverridesTests {
    private func parse(_ body: String, policy: String? = nil, privacy: String? = nil) throws(GatewayError) -> RoutingOverrides {
        let buffer = ByteBuffer(string: body)
        let result: Result<RoutingOverrides, GatewayError> = buffer.withUnsafeReadableBytes { bytes in
            let members = (try? JSONScanner.topLevelMembers(of: bytes)) ?? []
            return Result { () throws(GatewayError) -> RoutingOverrides in
                try RoutingOverrides.parse(
                    policyHeader: policy,
                    privacyHeader: privacy,
                    extensionField: members.first { $0.key == "multiprodigy" },
                    in: bytes
                )
            }
        }
        return try result.get()
    }

    @Test func readsEveryBodyField() throws {
        let overrides = try parse(#"{"multiprodigy":{"policy":"latency","privacy":"local","max_cost_usd":0.02,"max_latency_ms":1500}}"#)
        #expect(
            overrides == RoutingOverrides(policy: .latency, privateReason: "request", maxCostUSD: 0.02, maxLatency: .milliseconds(1500))
        )
    }

    @Test func readsTheHeaders() throws {
        #expect(try parse("{}", policy: "Cost", privacy: "local") == RoutingOverrides(policy: .cost, privateReason: "header"))
    }

    @Test func theBodyPolicyWinsOverTheHeader() throws {
        #expect(try parse(#"{"multiprodigy":{"policy":"balanced"}}"#, policy: "cost").policy == .balanced)
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        let body: String
        var policy: String? = nil
        var privacy: String? = nil
        let param: String?
        let code: String
        var testDescription: String { "\(body) \(policy ?? "") \(privacy ?? "")" }
    }

    static let badCases: [BadCase] = [
        BadCase(body: "{}", policy: "fastest", param: nil, code: "invalid_value"),
        BadCase(body: "{}", privacy: "cloud", param: nil, code: "invalid_value"),
        BadCase(body: #"{"multiprodigy":{"policy":"cheapest"}}"#, param: "multiprodigy.policy", code: "invalid_value"),
        BadCase(body: #"{"multiprodigy":{"policy":3}}"#, param: "multiprodigy.policy", code: "invalid_type"),
        BadCase(body: #"{"multiprodigy":{"privacy":"public"}}"#, param: "multiprodigy.privacy", code: "invalid_value"),
        BadCase(body: #"{"multiprodigy":{"max_cost_usd":-1}}"#, param: "multiprodigy.max_cost_usd", code: "invalid_value"),
        BadCase(body: #"{"multiprodigy":{"max_cost_usd":"1"}}"#, param: "multiprodigy.max_cost_usd", code: "invalid_type"),
        BadCase(body: #"{"multiprodigy":{"max_latency":100}}"#, param: "multiprodigy.max_latency", code: "unknown_parameter"),
        BadCase(body: #"{"multiprodigy":"local"}"#, param: "multiprodigy", code: "invalid_type"),
    ]

    @Test(arguments: badCases)
    func badValuesAreNamedIn400s(_ testCase: BadCase) {
        do {
            _ = try parse(testCase.body, policy: testCase.policy, privacy: testCase.privacy)
            Issue.record("expected an error")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.param == testCase.param)
            #expect(error.code == testCase.code)
        }
    }

    @Test func anUnknownFieldGetsADidYouMeanHint() {
        #expect(throws: GatewayError.self) { try parse(#"{"multiprodigy":{"max_latency":100}}"#) }
        do {
            _ = try parse(#"{"multiprodigy":{"max_latency":100}}"#)
        } catch {
            #expect(error.message.contains("Did you mean 'max_latency_ms'?"))
        }
    }
}
