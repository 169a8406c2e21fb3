import Foundation
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Finds the virtual key a client presents, from an in-memory directory of every key.
///
/// The directory is read again when the key store changes: at once after a change through
/// `/admin/keys`, and within ``refreshInterval`` after one by `multiprodigy keys` in another
/// process (a revoked key stops working then), by a service that asks the store off the request
/// path. A lookup touches no database: it hashes the secret and finds the hash.
final class KeyAuthenticator: Service, Sendable {
    /// Where the keys are kept.
    let store: KeyStore
    /// How often the store is asked whether keys changed.
    let refreshInterval: Duration
    private let directory: Mutex<KeyDirectory>

    /// Reads the keys of `store`.
    init(store: KeyStore, refreshInterval: Duration = .milliseconds(250)) {
        self.store = store
        self.refreshInterval = refreshInterval
        self.directory = Mutex((try? store.directory()) ?? KeyDirectory())
    }

    /// The key whose secret is `secret`, revoked or not; nil when there is none.
    func key(for secret: Substring) -> VirtualKey? {
        directory.withLock { $0 }.find(secret: String(secret))
    }

    /// Checks the store for changes every ``refreshInterval`` until the gateway shuts down; the
    /// blocking SQLite read runs on NIO's thread pool, not on an event loop.
    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: refreshInterval)
            try? await NIOThreadPool.singleton.runIfActive { self.refreshIfChanged() }
        }
    }

    /// Reads the directory again if the store changed.
    func refreshIfChanged() {
        let current = directory.withLock { $0 }
        guard let version = try? store.changeCounter(), version != current.version, let fresh = try? store.directory() else { return }
        directory.withLock { $0 = fresh }
    }
}
