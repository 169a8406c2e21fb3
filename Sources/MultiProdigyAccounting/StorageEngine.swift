import Foundation

/// What a storage engine does for the gateway: keep the virtual keys, the usage ledger and the
/// Responses API's stored responses.
///
/// Two engines implement it with one schema (``SchemaMigration``): ``SQLiteEngine`` (a file, one
/// gateway process) and ``PostgresEngine`` (a server that any number of replicas share). Nothing
/// here runs on the request path: keys are looked up in a ``KeyDirectory`` read from the engine,
/// and usage rows are committed in batches by the ``UsageLedger``'s writer.
protocol StorageEngine: Sendable {
    /// Where the data is, safe to log (a PostgreSQL URL without its password).
    var location: StorageLocation { get }

    /// Inserts a new key, failing with ``KeyStoreError`` when a valid key already has its name.
    /// Moves the keys' change counter. Returns the row as stored.
    func insertKey(_ row: KeyRow) async throws -> KeyRow

    /// Revokes the valid key with this id, else with this name, at `time`; moves the change counter.
    /// - Throws: ``KeyStoreError`` when no valid key has that id or name.
    func revokeKey(nameOrID: String, at time: Double) async throws -> KeyRow

    /// The keys, oldest first; revoked ones only when `includingRevoked`.
    func keyRows(includingRevoked: Bool) async throws -> [KeyRow]

    /// The key whose secret hashes to `secretHash`, revoked or not.
    func keyRow(secretHash: String) async throws -> KeyRow?

    /// Every key, built into a directory row by row (without holding the rows), with the change
    /// counter read in the same snapshot.
    func keyDirectory() async throws -> KeyDirectory

    /// The keys' change counter: moves whenever any process creates or revokes a key.
    func keysVersion() async throws -> Int

    /// Inserts usage rows, ignoring those already stored (same journal token and sequence), in one transaction.
    func insertUsage(_ entries: [JournaledUsage]) async throws

    /// Usage since `since` grouped by `groupColumn` (a ``UsageGrouping`` column or `NULL`, never user input).
    func usageSummary(since: Date, groupColumn: String) async throws -> [UsageSummaryRow]

    /// USD spent by the key named `keyName` since `since`.
    func spend(keyName: String, since: Date) async throws -> Double

    /// USD spent per key name since `since`; rows without a key are left out.
    func spendByKey(since: Date) async throws -> [String: Double]

    /// The usage rows `query` selects, newest first.
    func ledgerRows(_ query: LedgerQuery) async throws -> [LedgerRow]

    /// What the usage rows `query` selects add up to, its limit aside.
    func ledgerTotals(_ query: LedgerQuery) async throws -> LedgerTotals

    /// Inserts a stored response in one statement; fails when its id is taken.
    func insertStoredResponse(_ row: StoredResponse) async throws

    /// The stored response with this id and owner; nil when there is none (whoever else owns the id).
    func storedResponse(id: String, owner: String) async throws -> StoredResponse?

    /// Deletes the stored response with this id and owner; returns whether there was one.
    func deleteStoredResponse(id: String, owner: String) async throws -> Bool

    /// Deletes at most `limit` stored responses created before `time` (seconds since 1970), of
    /// any owner, oldest first; returns how many.
    func deleteStoredResponses(olderThan time: Double, limit: Int) async throws -> Int

    /// Closes connections; the engine is not used afterwards.
    func close() async
}
