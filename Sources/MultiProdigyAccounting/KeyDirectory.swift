import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting

/// Every virtual key in memory, found by secret without touching SQLite: for the request path.
///
/// Built by ``KeyStore/directory()``; rebuild it when ``KeyStore/changeCounter()`` differs from ``version``.
/// A lookup hashes the secret (SHA-256, about a microsecond), finds the hash, and compares it with
/// the stored one in constant time.
public struct KeyDirectory: Sendable {
    private let entries: [String: (hash: [UInt8], key: VirtualKey)]
    /// The store's change counter when this directory was read.
    public let version: Int

    /// A directory of `entries` (the SHA-256 of each key's secret in hex, and the key).
    package init(entries: [(hash: String, key: VirtualKey)], version: Int) {
        var byHash: [String: (hash: [UInt8], key: VirtualKey)] = [:]
        for entry in entries { byHash[entry.hash] = (Array(entry.hash.utf8), entry.key) }
        self.entries = byHash
        self.version = version
    }

    /// An empty directory.
    public init() {
        self.init(entries: [], version: -1)
    }

    /// The key whose secret is `secret`, revoked or not (the caller rejects a revoked one); nil when none.
    public func find(secret: String) -> VirtualKey? {
        let hex = KeySecret.hex(KeySecret.hash(secret))
        guard let entry = entries[hex], ConstantTime.equals(entry.hash, Array(hex.utf8)) else { return nil }
        return entry.key
    }

    /// The keys, in no particular order.
    public var keys: [VirtualKey] { entries.values.map(\.key) }
}
