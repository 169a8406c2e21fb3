/// What all the ledger rows a ``LedgerQuery`` selects (its limit aside) add up to.
public struct LedgerTotals: Sendable, Equatable {
    /// Rows.
    public var requests: Int
    /// Rows with a status of 400 or more.
    public var errors: Int
    /// Prompt tokens.
    public var promptTokens: Int
    /// Completion tokens.
    public var completionTokens: Int
    /// Cost in USD.
    public var costUSD: Double

    /// Creates totals.
    public init(requests: Int, errors: Int, promptTokens: Int, completionTokens: Int, costUSD: Double) {
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
    }
}
