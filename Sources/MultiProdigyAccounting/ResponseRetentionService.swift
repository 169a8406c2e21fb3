import Foundation
import Logging
import MultiProdigyCore
import ServiceLifecycle

/// Deletes the stored responses older than `storage.responses_retention`: once at start, then every
/// hour, so the `stored_responses` table holds about the retention's worth of responses.
///
/// Each sweep is one ``ResponseStore/deleteOlderThan(_:batchSize:maxBatches:timeLimit:)``, bounded
/// in statements and time; after a sweep that deleted a full batch or more (a backlog, such as a
/// retention just shortened), the next comes after a minute rather than an hour, until the backlog
/// is gone. A sweep that fails is counted in ``GatewayDatabase/health`` by the store (operation
/// `responses`, as every stored-response call), logged without secrets, and tried again at the next
/// sweep: a database that is away never stops the gateway.
///
/// With several replicas on PostgreSQL every replica runs its own sweeps on the shared table. No
/// replica needs to be chosen for it: a delete by age is idempotent, two replicas sweeping at once
/// each delete what the other has not (the second waits on the first's row locks, then finds those
/// rows gone), and the cost is a few indexed statements an hour per replica.
///
/// ```swift
/// let retention = ResponseRetentionService(database: database, retention: .seconds(30 * 86_400), logger: logger)
/// let group = ServiceGroup(services: [retention, server], logger: logger)
/// ```
public struct ResponseRetentionService: Service, CustomStringConvertible {
    /// How often a sweep runs after the first, at start.
    public static let defaultInterval: Duration = .seconds(3600)
    /// How soon a sweep follows one that may have left a backlog.
    public static let defaultCatchUpInterval: Duration = .seconds(60)

    /// Where the responses are.
    let store: ResponseStore
    /// How old a response may grow, from its creation.
    let retention: Duration
    /// The pause between sweeps.
    let interval: Duration
    /// The pause after a sweep that deleted a full batch or more.
    let catchUpInterval: Duration
    /// The statements one sweep runs at most.
    let maxBatchesPerSweep: Int
    /// The wall clock that response ages are measured on (`created_at` is wall-clock time); tests move it.
    let now: @Sendable () -> Date
    /// Receives one line per sweep that deleted something or failed.
    let logger: Logger

    /// A service that keeps the responses of `database` for `retention`, sweeping at start and hourly.
    public init(database: GatewayDatabase, retention: Duration, logger: Logger) {
        self.init(database: database, retention: retention, interval: Self.defaultInterval, logger: logger)
    }

    /// A service with its own pauses and clock, for the gateway's tests.
    package init(
        database: GatewayDatabase,
        retention: Duration,
        interval: Duration,
        catchUpInterval: Duration? = nil,
        maxBatchesPerSweep: Int = ResponseStore.retentionMaxBatches,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        store = database.responses
        self.retention = retention
        self.interval = interval
        self.catchUpInterval = min(catchUpInterval ?? Self.defaultCatchUpInterval, interval)
        self.maxBatchesPerSweep = maxBatchesPerSweep
        self.now = now
        self.logger = logger
    }

    /// `ResponseRetentionService(retention: …)`: the service lifecycle logs services by their description.
    public var description: String { "ResponseRetentionService(retention: \(retention), interval: \(interval))" }

    /// Sweeps at once, then after every pause, until a graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let deleted = await sweep()
                try? await Task.sleep(for: (deleted ?? 0) >= ResponseStore.retentionBatch ? catchUpInterval : interval)
            }
        }
    }

    /// Deletes the responses created more than ``retention`` before now, once.
    ///
    /// - Returns: how many were deleted; nil when the database failed (already counted in its health and logged).
    @discardableResult
    func sweep() async -> Int? {
        let cutoff = now().addingTimeInterval(-retention.seconds)
        do {
            let deleted = try await store.deleteOlderThan(cutoff, maxBatches: maxBatchesPerSweep)
            if deleted > 0 {
                logger.info(
                    "deleted \(deleted) stored responses older than storage.responses_retention",
                    metadata: ["created_before": "\(cutoff.formatted(.iso8601))"]
                )
            }
            return deleted
        } catch {
            // A shutdown interrupting a statement is not a failure worth a line.
            guard !Task.isCancelled else { return nil }
            logger.warning(
                "stored responses past storage.responses_retention could not be deleted; the next sweep tries again",
                metadata: ["error": "\(GatewayDatabase.describe(error))"]
            )
            return nil
        }
    }
}
