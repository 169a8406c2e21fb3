import Foundation
import Logging
import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyJSON

/// Keeps a finished response when its request asked for it (`store`, true by default), with the
/// conversation a later `previous_response_id` continues: the earlier turns, this request's input
/// items and this response's output items.
///
/// A failure to store does not fail the answer the client is waiting for: it is logged (without
/// the response) and counted by the database's health, and a later request that names the
/// response is told it does not exist. While the database is known to be unavailable, nothing is
/// attempted.
struct ResponseSaving: Sendable {
    /// Where responses are kept; nil when the request asked not to store (`store: false`).
    let store: ResponseStore?
    /// Who may read it back (``RequestCaller/owner``).
    let owner: String
    /// The conversation before this request, as stored items.
    let history: [JSONValue]
    /// This request's input items.
    let inputItems: [JSONValue]
    /// The request's logger.
    let logger: Logger

    /// Stores `response` (a `response` object) when the request asked for it.
    func save(_ response: JSONValue) async {
        guard let store, let id = response["id"]?.stringValue else { return }
        // While the database is known to be away, the answer does not wait out a store call's
        // deadline for each response; the database's own checks (the key poll, every 250 ms) tell
        // when it is back.
        guard store.database.health.isAvailable else {
            logger.warning("the response was not stored: the gateway's storage is unavailable", metadata: ["response_id": "\(id)"])
            return
        }
        let output = response["output"]?.arrayValue ?? []
        let row = StoredResponse(
            id: id,
            owner: owner,
            createdAt: response["created_at"]?.intValue.map { Date(timeIntervalSince1970: Double($0)) } ?? Date(),
            model: response["model"]?.stringValue,
            status: response["status"]?.stringValue,
            response: response.text,
            inputItems: JSONValue.array(inputItems).text,
            conversation: JSONValue.array(history + inputItems + output).text
        )
        // In a task of its own: a client that leaves as its answer ends must not cancel the save
        // that the answer's ledger row and `store: true` promise (and a cancellation is no
        // database failure).
        let saved = Task { try await store.save(row) }
        do {
            try await saved.value
        } catch {
            logger.warning(
                "the response could not be stored; a request that continues it will not find it",
                metadata: ["response_id": "\(id)", "error": "\(GatewayDatabase.describe(error))"]
            )
        }
    }
}
