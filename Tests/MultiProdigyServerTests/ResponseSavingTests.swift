import Foundation
import Logging
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyJSON
@testable import MultiProdigyServer

/// What a finished response leaves in the store: itself and its conversation when asked, and
/// nothing, at once, while the database is known to be away.
@Suite struct ResponseSavingTests {
    private static func withStore(_ body: (ResponseStore) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("saving-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try await GatewayDatabase.open(path: folder.appendingPathComponent("gateway.db").path)
        try await body(ResponseStore(database: database))
        await database.close()
    }

    private static let response: JSONValue = [
        "id": "resp_0123", "object": "response", "created_at": 1_767_225_600, "model": "small", "status": "completed",
        "output": [["type": "message", "id": "msg_1", "role": "assistant", "content": [["type": "output_text", "text": "Hi"]]]],
    ]

    private static func saving(_ store: ResponseStore?) -> ResponseSaving {
        ResponseSaving(
            store: store,
            owner: "key:k1",
            history: [["type": "message", "role": "user", "content": "Earlier"]],
            inputItems: [["type": "message", "id": "msg_in", "role": "user", "content": "Hello"]],
            logger: Logger(label: "test")
        )
    }

    @Test func aResponseIsStoredWithItsWholeConversation() async throws {
        try await Self.withStore { store in
            await Self.saving(store).save(Self.response)
            let stored = try #require(try await store.response(id: "resp_0123", owner: "key:k1"))
            #expect(stored.status == "completed")
            #expect(stored.model == "small")
            let conversation = try JSONValue.parse(stored.conversation).arrayValue ?? []
            #expect(conversation.map { $0["role"]?.stringValue } == ["user", "user", "assistant"])
            let inputItems = try JSONValue.parse(stored.inputItems)
            #expect(inputItems.arrayValue?.count == 1)
            #expect(try await store.response(id: "resp_0123", owner: "master") == nil)
        }
    }

    @Test func storeFalseStoresNothing() async throws {
        try await Self.withStore { store in
            await Self.saving(nil).save(Self.response)
            let stored = try await store.response(id: "resp_0123", owner: "key:k1")
            #expect(stored == nil)
        }
    }

    @Test func nothingIsAttemptedWhileTheDatabaseIsKnownToBeAway() async throws {
        try await Self.withStore { store in
            store.database.health.failed("usage", error: "connection refused")
            let started = ContinuousClock.now
            await Self.saving(store).save(Self.response)
            // No wait for a timeout or a retry (a generous bound: the whole test run shares two cores).
            #expect(ContinuousClock.now - started < .seconds(10))
            store.database.health.succeeded()
            let stored = try await store.response(id: "resp_0123", owner: "key:k1")
            #expect(stored == nil, "skipped, not stored late")
        }
    }
}
