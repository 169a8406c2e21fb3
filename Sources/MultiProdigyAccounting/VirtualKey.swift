import Foundation
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// A virtual key as stored: its settings and public identity, never its secret.
///
/// Clients send the secret (`Authorization: Bearer mp-…` or `x-api-key`); the store keeps only
/// its SHA-256 (see ``KeyStore``).
public struct VirtualKey: Sendable, Equatable {
    /// A short public id, such as `key_ab12cd34`.
    public var id: String
    /// The key's name, unique among keys that are not revoked (`team-a`).
    public var name: String
    /// What the key may spend per period; nil for no limit.
    public var budget: KeyBudget?
    /// Requests per minute; nil for no limit.
    public var requestsPerMinute: Int?
    /// Prompt plus completion tokens per minute; nil for no limit.
    public var tokensPerMinute: Int?
    /// The routes, models or `provider/model` names the key may ask for; nil for all.
    public var routes: [String]?
    /// `.local` keeps every request of the key on local targets; nil for no restriction.
    public var privacy: Locality?
    /// When the key was created.
    public var createdAt: Date
    /// When the key was revoked; nil while it is valid.
    public var revokedAt: Date?
    /// The first characters of the secret (`mp-Ab3dE`), safe to show, to recognise a key.
    public var prefix: String

    /// Creates a key description.
    public init(
        id: String,
        name: String,
        budget: KeyBudget? = nil,
        requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil,
        routes: [String]? = nil,
        privacy: Locality? = nil,
        createdAt: Date,
        revokedAt: Date? = nil,
        prefix: String
    ) {
        self.id = id
        self.name = name
        self.budget = budget
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.routes = routes
        self.privacy = privacy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.prefix = prefix
    }

    /// Whether the key has been revoked.
    public var isRevoked: Bool { revokedAt != nil }

    /// Where the budget's current window starts at `now`: the start of its period, or the key's
    /// creation when later (a re-created name does not inherit the old key's spend); nil without a budget.
    public func budgetWindowStart(at now: Date) -> Date? {
        limiterBudget?.window(at: now).start
    }

    /// The budget as ``KeyLimiter`` enforces it: spend before the key's creation does not count.
    public var limiterBudget: KeyLimiter.Budget? {
        budget.map { KeyLimiter.Budget(amountUSD: $0.amountUSD, period: $0.period, notBefore: createdAt) }
    }

    /// The key as a JSON object (never the secret), as `multiprodigy keys list --json` prints it.
    ///
    /// `{"id", "name", "prefix", "budget": "50usd/month", "budget_usd", "budget_period", "rpm", "tpm",
    /// "routes", "privacy", "created_at", "revoked_at"}`, times in ISO 8601 UTC.
    public var json: JSONValue {
        let time = { (date: Date) -> JSONValue in .string(date.formatted(.iso8601)) }
        return [
            "id": .string(id),
            "name": .string(name),
            "prefix": .string(prefix),
            "budget": budget.map { .string($0.description) } ?? .null,
            "budget_usd": budget.map { .double($0.amountUSD) } ?? .null,
            "budget_period": budget.map { .string($0.period.rawValue) } ?? .null,
            "rpm": requestsPerMinute.map { .integer($0) } ?? .null,
            "tpm": tokensPerMinute.map { .integer($0) } ?? .null,
            "routes": routes.map { .array($0.map { .string($0) }) } ?? .null,
            "privacy": privacy.map { .string($0.rawValue) } ?? .null,
            "created_at": time(createdAt),
            "revoked_at": revokedAt.map(time) ?? .null,
        ]
    }
}
