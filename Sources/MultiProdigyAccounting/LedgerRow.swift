/// A usage ledger row with its id, the cursor of the next page of a ``LedgerQuery``.
public struct LedgerRow: Sendable, Equatable {
    /// The row's id: larger for rows inserted later (on PostgreSQL an id is taken at insert and seen at commit,
    /// so replicas' batches may become visible slightly out of order).
    public var id: Int64
    /// The row.
    public var record: UsageRecord

    /// Creates a row.
    public init(id: Int64, record: UsageRecord) {
        self.id = id
        self.record = record
    }
}
