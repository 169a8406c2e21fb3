import Foundation
import MultiProdigyConfig
import MultiProdigyRouting

/// A row of the `keys` table, column for column, as both storage engines read and write it.
///
/// Times are seconds since 1970; `routes` is a JSON array of names.
struct KeyRow: Sendable, Equatable {
    var id: String
    var name: String
    /// The SHA-256 of the secret, in hex.
    var secretHash: String
    var prefix: String
    var budgetUSD: Double?
    var budgetPeriod: String?
    var requestsPerMinute: Int?
    var tokensPerMinute: Int?
    var routes: String?
    var privacy: String?
    var createdAt: Double
    var revokedAt: Double?

    /// The row of `key`, whose secret hashes to `secretHash`.
    init(key: VirtualKey, secretHash: String) throws {
        id = key.id
        name = key.name
        self.secretHash = secretHash
        prefix = key.prefix
        budgetUSD = key.budget?.amountUSD
        budgetPeriod = key.budget?.period.rawValue
        requestsPerMinute = key.requestsPerMinute
        tokensPerMinute = key.tokensPerMinute
        routes = try key.routes.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        privacy = key.privacy?.rawValue
        createdAt = key.createdAt.timeIntervalSince1970
        revokedAt = key.revokedAt?.timeIntervalSince1970
    }

    /// A row from its columns.
    init(
        id: String,
        name: String,
        secretHash: String,
        prefix: String,
        budgetUSD: Double?,
        budgetPeriod: String?,
        requestsPerMinute: Int?,
        tokensPerMinute: Int?,
        routes: String?,
        privacy: String?,
        createdAt: Double,
        revokedAt: Double?
    ) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.prefix = prefix
        self.budgetUSD = budgetUSD
        self.budgetPeriod = budgetPeriod
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.routes = routes
        self.privacy = privacy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// The key the row describes.
    func key() throws -> VirtualKey {
        let budget = budgetUSD.map { amount in
            KeyBudget(amountUSD: amount, period: budgetPeriod.flatMap(BudgetPeriod.init(rawValue:)) ?? .total)
        }
        return VirtualKey(
            id: id,
            name: name,
            budget: budget,
            requestsPerMinute: requestsPerMinute,
            tokensPerMinute: tokensPerMinute,
            routes: try routes.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) },
            privacy: privacy.flatMap(Locality.init(rawValue:)),
            createdAt: Date(timeIntervalSince1970: createdAt),
            revokedAt: revokedAt.map(Date.init(timeIntervalSince1970:)),
            prefix: prefix
        )
    }

    /// The columns in table order, for `INSERT INTO keys (…)`.
    static let columns =
        "id, name, secret_hash, prefix, budget_usd, budget_period, requests_per_minute, tokens_per_minute, routes, privacy, created_at, revoked_at"

    /// ``columns`` as a ``KeyDirectory`` reads them: a revoked key's settings read as NULL, since
    /// the directory keeps only its identity (and a gateway need not read them at every refresh).
    static let directoryColumns =
        "id, name, secret_hash, prefix, "
        + ["budget_usd", "budget_period", "requests_per_minute", "tokens_per_minute", "routes", "privacy"]
        .map { "CASE WHEN revoked_at IS NULL THEN \($0) END AS \($0)" }.joined(separator: ", ")
        + ", created_at, revoked_at"

    /// How many keys are active and how many revoked, as one row of two counts.
    static let directoryCountsQuery = "SELECT COUNT(*) - COUNT(revoked_at), COUNT(revoked_at) FROM keys"
}
