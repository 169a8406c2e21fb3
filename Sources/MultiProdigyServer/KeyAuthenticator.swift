import Foundation
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import ServiceLifecycle
import Synchronization

/// Finds the virtual key a client presents, from an in-memory directory of every key.
///
/// The directory is read again when the key store changes: at once after a change through this
/// gateway's `/admin/keys`, and within ``refreshInterval`` after one by `multiprodigy keys` or by
/// another replica (a revoked key stops working then), by a service that asks the store's change
/// counter off the request path. A replica that lost its database finds the counter moved when it
/// answers again, and catches up then. A lookup touches no database: it hashes the secret and
/// finds the hash.
final class KeyAuthenticator: Service, Sendable {
    /// Where the keys are kept.
    let store: KeyStore
    /// How often the store is asked whether keys changed.
    let refreshInterval: Duration
    /// Told at each refresh to forget every key that is not active, whoever revoked it (this
    /// gateway's `/admin/keys`, another replica's, or `multiprodigy keys`), so that no counts stay.
    let limiter: (any KeyLimiting)?
    private let directory: Mutex<KeyDirectory>
    /// Gives back what a rebuilt directory freed (see ``HeapTrimmer``).
    private let trimmer = HeapTrimmer()

    /// Reads the keys of `store`.
    ///
    /// - Throws: the store's error: a gateway does not start without its keys.
    init(store: KeyStore, limiter: (any KeyLimiting)? = nil, refreshInterval: Duration = .milliseconds(250)) async throws {
        self.store = store
        self.limiter = limiter
        self.refreshInterval = refreshInterval
        self.directory = Mutex(try await store.directory())
    }

    /// The key whose secret is `secret`, revoked or not; nil when there is none.
    func key(for secret: Substring) -> VirtualKey? {
        directory.withLock { $0 }.find(secret: String(secret))
    }

    /// The keys in use (not revoked), as last read from the store.
    var activeKeys: [VirtualKey] { directory.withLock { $0 }.activeKeys }

    /// Checks the store for changes every ``refreshInterval`` until the gateway shuts down (the
    /// SQLite engine reads on GRDB's own threads, not on an event loop).
    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: refreshInterval)
            await refreshIfChanged()
        }
    }

    /// Reads the directory again if the store changed; keeps the current one when the store fails.
    func refreshIfChanged() async {
        let current = directory.withLock { $0.version }
        guard let version = try? await store.changeCounter(), version != current, let fresh = try? await store.directory() else { return }
        let installed = directory.withLock { directory in
            // Two refreshes may race (the service's and one after `/admin/keys`): the newer wins.
            guard fresh.version >= directory.version else { return false }
            directory = fresh
            return true
        }
        guard installed else { return }
        // The keys of the directory in place now, which a racing refresh may have replaced since.
        limiter?.forget(keysOtherThan: Set(activeKeys.map(\.id)))
        // The old directory is freed now (unless a lookup still holds a copy for a moment).
        trimmer.rebuilt()
    }
}
