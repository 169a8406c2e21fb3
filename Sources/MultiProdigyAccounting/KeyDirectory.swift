/// Every virtual key in memory, found by secret without touching the database: for the request path.
///
/// Built by ``KeyStore/directory()``; rebuild it when ``KeyStore/changeCounter()`` differs from ``version``.
/// A lookup hashes the secret (SHA-256, about a microsecond) and finds the digest.
///
/// Revoked keys stay in the directory so that a client presenting one is told it was revoked, but
/// only their identity is kept (id, name, prefix, creation and revocation times: under a hundred
/// bytes, nothing on the heap for a name of up to 15 bytes), since a gateway that creates and
/// revokes keys all day must not hold each one's settings forever. Active keys are kept whole.
public struct KeyDirectory: Sendable {
    private var active: [SecretDigest: VirtualKey] = [:]
    private var revoked: [SecretDigest: RevokedKey] = [:]
    /// The store's change counter when this directory was read.
    public let version: Int

    /// A directory without keys, read at `version`.
    init(version: Int) {
        self.version = version
    }

    /// An empty directory.
    public init() {
        self.init(version: -1)
    }

    /// Adds the key of `row` (a revoked one by its identity only). A row whose hash is not 64
    /// lowercase hex digits is left out: no secret could match it.
    ///
    /// - Throws: when the row's settings do not decode (its `routes` JSON).
    mutating func add(_ row: KeyRow) throws {
        guard let digest = SecretDigest(hex: row.secretHash) else { return }
        if let revokedAt = row.revokedAt {
            active[digest] = nil
            revoked[digest] = RevokedKey(
                id: row.id,
                name: row.name,
                prefix: row.prefix,
                createdAt: row.createdAt,
                revokedAt: revokedAt
            )
        } else {
            active[digest] = try row.key()
        }
    }

    /// Makes room for `activeCount` more active keys and `revokedCount` more revoked ones at once,
    /// rather than growing the tables step by step.
    mutating func reserve(active activeCount: Int, revoked revokedCount: Int) {
        active.reserveCapacity(active.count + max(0, activeCount))
        revoked.reserveCapacity(revoked.count + max(0, revokedCount))
    }

    /// The key whose secret is `secret`, nil when none.
    ///
    /// A revoked key (the caller rejects it) comes back with its id, name, prefix and times only.
    /// The digests compare by `==`: timing could tell how many leading bytes of a SHA-256 digest
    /// matched, which says nothing useful about a secret.
    public func find(secret: String) -> VirtualKey? {
        let digest = SecretDigest(bytes: KeySecret.hash(secret))
        if let key = active[digest] { return key }
        return revoked[digest]?.key
    }

    /// The keys that are not revoked, in no particular order.
    public var activeKeys: [VirtualKey] { Array(active.values) }

    /// How many keys the directory holds: `active` ones, whole, and `revoked` ones, by identity.
    public var counts: (active: Int, revoked: Int) { (active.count, revoked.count) }
}
