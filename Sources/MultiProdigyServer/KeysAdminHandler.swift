import Foundation
import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// `/admin/keys` (master key only): list, create and revoke virtual keys, as
/// `multiprodigy keys` does from the shell.
///
/// - `GET /admin/keys[?all=true]`: `{"object":"list","data":[key…]}`, each key with what it spent
///   in its current budget period (`spent_usd`), never its secret.
/// - `POST /admin/keys` with `{"name", "budget": "50usd/month", "rpm", "tpm", "routes": ["auto"],
///   "privacy": "local"}`: 201 and the key, with its secret in `key`, shown this once.
/// - `DELETE /admin/keys/{name or id}`: the revoked key. It stops working at once.
struct KeysAdminHandler: Sendable {
    let keys: KeyAuthenticator
    let limiter: any KeyLimiting
    let ledger: UsageLedger
    let maxRequestBytes: Int

    /// Throws 403 unless the request carries the master key.
    static func requireMaster(_ context: GatewayRequestContext) throws(GatewayError) {
        guard context.caller.isMaster else {
            throw GatewayError(
                status: .forbidden,
                message: "Managing keys needs the gateway's master key.",
                type: "invalid_request_error",
                code: "master_key_required"
            )
        }
    }

    func list(_ request: Request) async throws -> Response {
        let all = request.uri.queryParameters["all"].map { $0 == "true" || $0 == "1" } ?? false
        let now = Date()
        let listed = try await storeCall { try await keys.store.list(includingRevoked: all) }
        var data: [JSONValue] = []
        for key in listed {
            var json = key.json
            if let start = key.budgetWindowStart(at: now), let spent = await spent(by: key, since: start) {
                json["spent_usd"] = .number(CostFormatting.usd(spent))
            }
            data.append(json)
        }
        return Self.json(["object": "list", "data": .array(data)])
    }

    func create(_ request: Request) async throws -> Response {
        var request = request
        let body = try await RequestBodyReader.collect(&request, limit: maxRequestBytes)
        guard let json = try? JSONValue.parse(body), case .object = json else {
            throw GatewayError.invalidRequest(
                #"Send a JSON object such as {"name": "team-a", "budget": "50usd/month", "rpm": 600}."#,
                code: "invalid_json"
            )
        }
        let allowed: Set<String> = ["name", "budget", "rpm", "tpm", "routes", "privacy"]
        if case .object(let object) = json, let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw GatewayError.invalidRequest(
                "Unknown field '\(EchoedName.shortened(unknown))'. A key takes: \(allowed.sorted().joined(separator: ", ")).",
                param: EchoedName.shortened(unknown),
                code: "unknown_parameter"
            )
        }
        guard let name = try Self.string(json["name"], param: "name") else {
            throw GatewayError.invalidRequest(
                "Give the key a 'name', such as \"team-a\".",
                param: "name",
                code: "missing_required_parameter"
            )
        }
        var budget: KeyBudget?
        if let text = try Self.string(json["budget"], param: "budget") { budget = try await storeCall { try KeyBudget(parsing: text) } }
        let routes: [String]?
        switch json["routes"] {
        case nil, .null?:
            routes = nil
        case .string(let list)?:
            routes = list.split(separator: ",").map(String.init)
        case .array(let names)?:
            routes = try names.map { name throws(GatewayError) -> String in
                guard let text = name.stringValue else { throw Self.typeError("routes", expected: "route names") }
                return text
            }
        default:
            throw Self.typeError("routes", expected: "an array of route names, or a comma-separated string")
        }
        let privacy: Locality?
        switch try Self.string(json["privacy"], param: "privacy") {
        case nil: privacy = nil
        case "local": privacy = .local
        case let other?:
            throw GatewayError.invalidRequest(
                "Invalid 'privacy': '\(EchoedName.shortened(other))'. The only restriction is \"local\".",
                param: "privacy",
                code: "invalid_value"
            )
        }
        let (key, secret) = try await storeCall {
            try await keys.store.create(
                name: name,
                budget: budget,
                requestsPerMinute: try Self.count(json["rpm"], param: "rpm"),
                tokensPerMinute: try Self.count(json["tpm"], param: "tpm"),
                routes: routes,
                privacy: privacy
            )
        }
        await keys.refreshIfChanged()
        var answer = key.json
        answer["key"] = .string(secret)
        return Self.json(answer, status: .created)
    }

    func revoke(_ nameOrID: String) async throws -> Response {
        let key = try await storeCall { try await keys.store.revoke(nameOrID: nameOrID) }
        await keys.refreshIfChanged()
        limiter.forget(key: key.id)
        return Self.json(key.json)
    }

    /// What each key in use with a budget spent in its current period, and its budget, for
    /// `multiprodigy_key_budget_used_ratio`; a key whose spend cannot be read is left out.
    func budgetUse(now: Date = Date()) async -> [(key: String, spentUSD: Double, budgetUSD: Double)] {
        var uses: [(key: String, spentUSD: Double, budgetUSD: Double)] = []
        for key in keys.activeKeys {
            guard let budget = key.budget, let start = key.budgetWindowStart(at: now), let spent = await spent(by: key, since: start) else {
                continue
            }
            uses.append((key.name, spent, budget.amountUSD))
        }
        return uses
    }

    /// What `key` spent since `start`: one process's running count once the key has been used (the
    /// ledger commits its rows a few milliseconds later), else the ledger's, which holds every replica's.
    private func spent(by key: VirtualKey, since start: Date) async -> Double? {
        if let spent = limiter.spentUSD(ofKey: key.id, inPeriodStarting: start) { return spent }
        return try? await ledger.spend(keyName: key.name, since: start)
    }

    /// Runs a store call, answering its complaints as 400s (404 for an unknown key).
    private func storeCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GatewayError {
            throw error
        } catch let error as KeyStoreError {
            let unknown = error.isUnknownKey
            throw GatewayError(
                status: unknown ? .notFound : .badRequest,
                message: Self.sentence(error.message),
                type: "invalid_request_error",
                code: unknown ? "key_not_found" : "invalid_key_settings"
            )
        } catch {
            throw GatewayError.storageUnavailable(
                "The key store did not answer",
                error: error,
                hint: "Try again shortly; a change it may still have made shows in GET /admin/keys."
            )
        }
    }

    private static func count(_ value: JSONValue?, param: String) throws(GatewayError) -> Int? {
        guard let value, value != .null else { return nil }
        guard case .number = value, let count = value.intValue else { throw typeError(param, expected: "a whole number") }
        return count
    }

    /// The string `value` holds; nil when absent or null; a 400 when it is something else, so a
    /// restriction sent with the wrong type is never silently dropped.
    private static func string(_ value: JSONValue?, param: String) throws(GatewayError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw typeError(param, expected: "a string")
        }
    }

    private static func typeError(_ param: String, expected: String) -> GatewayError {
        GatewayError.invalidRequest("Invalid type for '\(param)': expected \(expected).", param: param, code: "invalid_type")
    }

    private static func sentence(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }

    private static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: value.buffer))
    }
}
