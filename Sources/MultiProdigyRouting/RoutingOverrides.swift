import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// The client's per-request routing wishes: header `x-multiprodigy-policy`, header
/// `x-multiprodigy-privacy: local`, and the body field `"multiprodigy": {...}`.
///
/// ```json
/// "multiprodigy": {"policy": "cost", "privacy": "local", "max_cost_usd": 0.01, "max_latency_ms": 2000}
/// ```
///
/// A client can tighten privacy but never loosen it: a route with `policy: privacy`, a key limited
/// to local targets or detected personal data keep the request local whatever it asks.
public struct RoutingOverrides: Sendable, Equatable {
    /// The policy to rank by instead of the route's.
    public var policy: RoutingPolicy?
    /// Why the client asked to stay local (`header` or `request`), or nil.
    public var privateReason: String?
    /// Targets estimated dearer than this are excluded.
    public var maxCostUSD: Double?
    /// Targets predicted slower than this are excluded.
    public var maxLatency: Duration?

    /// No overrides.
    public init(policy: RoutingPolicy? = nil, privateReason: String? = nil, maxCostUSD: Double? = nil, maxLatency: Duration? = nil) {
        self.policy = policy
        self.privateReason = privateReason
        self.maxCostUSD = maxCostUSD
        self.maxLatency = maxLatency
    }

    /// The keys the `multiprodigy` body field accepts.
    public static let bodyKeys = ["policy", "privacy", "max_cost_usd", "max_latency_ms"]

    /// Reads the overrides of a request.
    ///
    /// - Parameters:
    ///   - policyHeader: The `x-multiprodigy-policy` header, if sent.
    ///   - privacyHeader: The `x-multiprodigy-privacy` header, if sent.
    ///   - extensionField: The `multiprodigy` member of the body, if any, and the body's bytes.
    /// - Throws: ``GatewayError`` 400 naming the bad header or field.
    public static func parse(
        policyHeader: String?,
        privacyHeader: String?,
        extensionField: JSONMember?,
        in bytes: UnsafeRawBufferPointer
    ) throws(GatewayError) -> RoutingOverrides {
        var overrides = RoutingOverrides()
        if let policyHeader {
            overrides.policy = try policy(named: policyHeader, source: "the x-multiprodigy-policy header", param: nil)
        }
        if let privacyHeader {
            try checkPrivacy(privacyHeader, source: "the x-multiprodigy-privacy header", param: nil)
            overrides.privateReason = "header"
        }
        guard let extensionField, extensionField.kind != .null else { return overrides }
        guard extensionField.kind == .object else {
            throw typeError("multiprodigy", expected: "an object", got: extensionField.kind)
        }
        let fields: [JSONMember]
        do {
            fields = try JSONScanner.members(ofObjectAt: extensionField.value, in: bytes)
        } catch {
            throw .invalidRequest("Invalid 'multiprodigy': \(error.reason).", param: "multiprodigy", code: "invalid_value")
        }
        for field in fields {
            let param = "multiprodigy.\(EchoedName.shortened(field.key))"
            switch field.key {
            case "policy":
                guard field.kind == .string else { throw typeError(param, expected: "a string", got: field.kind) }
                let name = JSONScanner.decodeString(at: field.value, in: bytes)
                overrides.policy = try policy(named: name, source: "'\(param)'", param: param)
            case "privacy":
                guard field.kind == .string else { throw typeError(param, expected: "a string", got: field.kind) }
                try checkPrivacy(JSONScanner.decodeString(at: field.value, in: bytes), source: "'\(param)'", param: param)
                overrides.privateReason = overrides.privateReason ?? "request"
            case "max_cost_usd":
                overrides.maxCostUSD = try nonNegativeNumber(field, param: param, in: bytes)
            case "max_latency_ms":
                let milliseconds = try nonNegativeNumber(field, param: param, in: bytes)
                overrides.maxLatency = .microseconds(Int64((min(milliseconds, 86_400_000) * 1000).rounded()))
            default:
                let hint = ConfigValueParsing.suggestion(for: field.key, among: bodyKeys).map { " Did you mean '\($0)'?" } ?? ""
                throw .invalidRequest(
                    "Unknown parameter: '\(param)'.\(hint) The multiprodigy field accepts \(bodyKeys.joined(separator: ", ")).",
                    param: param,
                    code: "unknown_parameter"
                )
            }
        }
        return overrides
    }

    private static func policy(named name: String, source: String, param: String?) throws(GatewayError) -> RoutingPolicy {
        guard let policy = RoutingPolicy(rawValue: name.lowercased()) else {
            throw .invalidRequest(
                "Invalid value for \(source): '\(EchoedName.shortened(name))'. Use one of \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")).",
                param: param,
                code: "invalid_value"
            )
        }
        return policy
    }

    private static func checkPrivacy(_ value: String, source: String, param: String?) throws(GatewayError) {
        guard value.lowercased() == Locality.local.rawValue else {
            throw .invalidRequest(
                "Invalid value for \(source): '\(EchoedName.shortened(value))'. The only value is 'local', which keeps the request on local targets.",
                param: param,
                code: "invalid_value"
            )
        }
    }

    private static func nonNegativeNumber(
        _ field: JSONMember,
        param: String,
        in bytes: UnsafeRawBufferPointer
    ) throws(GatewayError) -> Double {
        guard field.kind == .number else { throw typeError(param, expected: "a number", got: field.kind) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[field.value]), as: UTF8.self)
        guard let value = Double(text), value >= 0, value.isFinite else {
            throw .invalidRequest(
                "Invalid '\(param)': expected a number >= 0, but got \(EchoedName.shortened(text)) instead.",
                param: param,
                code: "invalid_value"
            )
        }
        return value
    }

    private static func typeError(_ param: String, expected: String, got kind: JSONValueKind) -> GatewayError {
        .invalidRequest(
            "Invalid type for '\(param)': expected \(expected), but got \(kind.description) instead.",
            param: param,
            code: "invalid_type"
        )
    }
}
