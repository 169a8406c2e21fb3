import Foundation
import Testing

@testable import MultiProdigyAccounting
@testable import MultiProdigyServer

/// The gateway's in-memory view of the keys, refreshed when the store changes.
@Suite struct KeyAuthenticatorTests {
    /// A key revoked outside this gateway (`multiprodigy keys revoke`, another replica) is refused
    /// after the next refresh, and the limiter forgets its counts then: nothing of it stays but its
    /// identity in the directory. A key still active keeps its counts.
    @Test func aKeyRevokedElsewhereIsRefusedAndItsCountsForgotten() async throws {
        let database = try await GatewayDatabase.temporary()
        let store = KeyStore(database: database)
        let (gone, goneSecret) = try await store.create(name: "gone", requestsPerMinute: 60)
        let (kept, keptSecret) = try await store.create(name: "kept", requestsPerMinute: 60)
        let limiter = KeyLimiter()
        let keys = try await KeyAuthenticator(store: store, limiter: limiter)
        for key in [gone, kept] {
            let limits = KeyLimiter.Limits(id: key.id, name: key.name, requestsPerMinute: 60)
            _ = try await limiter.admit(limits, estimatedTokens: 1, estimatedCostUSD: 0).get()
            #expect(limiter.usage(ofKey: key.id) != nil)
        }
        #expect(keys.key(for: goneSecret[...])?.isRevoked == false)

        // The command line revokes it through a store of its own.
        try await KeyStore(database: try await GatewayDatabase.open(path: database.path)).revoke(nameOrID: "gone")
        #expect(keys.key(for: goneSecret[...])?.isRevoked == false, "not seen before a refresh")
        await keys.refreshIfChanged()

        #expect(keys.key(for: goneSecret[...])?.isRevoked == true)
        #expect(keys.key(for: keptSecret[...]) == kept)
        #expect(keys.activeKeys == [kept])
        #expect(limiter.usage(ofKey: gone.id) == nil)
        #expect(limiter.usage(ofKey: kept.id) != nil)

        // From review: a request authenticated just before the refresh and admitted after it
        // re-creates the revoked key's counts; the next refresh forgets them again.
        let late = KeyLimiter.Limits(id: gone.id, name: gone.name, requestsPerMinute: 60)
        _ = try await limiter.admit(late, estimatedTokens: 1, estimatedCostUSD: 0).get()
        #expect(limiter.usage(ofKey: gone.id) != nil)
        _ = try await store.create(name: "other")
        await keys.refreshIfChanged()
        #expect(limiter.usage(ofKey: gone.id) == nil)
        #expect(limiter.usage(ofKey: kept.id) != nil)
    }
}
