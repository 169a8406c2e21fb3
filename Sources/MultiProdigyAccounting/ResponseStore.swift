import Foundation

/// Keeps the Responses API's stored responses (`store: true`) in the gateway's database, each
/// visible only to the owner that created it.
///
/// Every read and delete names the owner with the id: a response of another owner is not found,
/// exactly as one that does not exist, so a client cannot learn which ids are in use. On
/// PostgreSQL every replica sees what any of them saved, so a conversation may continue on any of
/// them. Failures reach ``GatewayDatabase/health`` (operation `responses`), as every storage call's do.
///
/// ```swift
/// let store = database.responses
/// try await store.save(row)
/// let previous = try await store.response(id: "resp_abc", owner: "key:" + key.id)  // nil for anyone else
/// ```
public struct ResponseStore: Sendable {
    /// Where responses are stored.
    public let database: GatewayDatabase

    /// The rows one retention statement deletes at most: a large backlog is removed in several
    /// short statements, each within the engine's bound on a call, instead of one long one.
    public static let retentionBatch = 500

    /// The statements one ``deleteOlderThan(_:batchSize:maxBatches:timeLimit:)`` runs at most:
    /// 100,000 rows. A larger backlog (a retention just shortened) is caught up by the next calls.
    public static let retentionMaxBatches = 200

    /// How long one ``deleteOlderThan(_:batchSize:maxBatches:timeLimit:)`` starts statements for: a
    /// sweep must not hold a shutdown, nor the database, for long.
    public static let retentionTimeLimit: Duration = .seconds(30)

    /// A store over `database`.
    public init(database: GatewayDatabase) {
        self.database = database
    }

    /// Stores `row` in one statement.
    ///
    /// - Throws: the engine's error when the database fails, or when a response with `row.id` is
    ///   already stored (ids are generated, so this is a bug, not a client's mistake).
    public func save(_ row: StoredResponse) async throws {
        try await database.run("responses") { engine in try await engine.insertStoredResponse(row) }
    }

    /// The response `id` if `owner` stored it; nil when it does not exist or another owner stored it.
    public func response(id: String, owner: String) async throws -> StoredResponse? {
        try await database.run("responses") { engine in try await engine.storedResponse(id: id, owner: owner) }
    }

    /// Deletes the response `id` if `owner` stored it.
    ///
    /// - Returns: whether it was there; false, with the response kept, when another owner stored it.
    @discardableResult
    public func delete(id: String, owner: String) async throws -> Bool {
        try await database.run("responses") { engine in try await engine.deleteStoredResponse(id: id, owner: owner) }
    }

    /// Deletes every owner's responses created before `date`, for retention, up to a bound.
    ///
    /// Runs as statements of at most `batchSize` rows each, so a long backlog neither holds a lock
    /// nor meets a call's deadline; a failure part-way keeps what was already deleted deleted. One
    /// call runs at most `maxBatches` statements, and starts none after `timeLimit` (or once its
    /// task is cancelled): what is left of a larger backlog waits for the next call, which
    /// ``ResponseRetentionService`` makes on its next sweep.
    /// - Parameters:
    ///   - date: responses created before it are deleted; one created at it is kept.
    ///   - batchSize: the rows one statement deletes at most, ``retentionBatch`` by default.
    ///   - maxBatches: the statements one call runs at most, ``retentionMaxBatches`` by default.
    ///   - timeLimit: no statement starts after this long, ``retentionTimeLimit`` by default; the
    ///     first always runs.
    /// - Returns: how many were deleted; `batchSize × maxBatches` (or a stop at the time limit)
    ///   means more may be left.
    @discardableResult
    public func deleteOlderThan(
        _ date: Date,
        batchSize: Int = retentionBatch,
        maxBatches: Int = retentionMaxBatches,
        timeLimit: Duration = retentionTimeLimit
    ) async throws -> Int {
        let time = date.timeIntervalSince1970
        let limit = max(batchSize, 1)
        let clock = ContinuousClock()
        let stopAt = clock.now.advanced(by: timeLimit)
        var deleted = 0
        for index in 0..<max(maxBatches, 1) {
            if index > 0, Task.isCancelled || clock.now >= stopAt { break }
            let batch = try await database.run("responses") { engine in
                try await engine.deleteStoredResponses(olderThan: time, limit: limit)
            }
            deleted += batch
            if batch < limit { break }
        }
        return deleted
    }
}
