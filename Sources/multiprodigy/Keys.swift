import ArgumentParser

/// `multiprodigy keys`: manages virtual keys.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke virtual keys: the secrets clients send instead of a provider's key.",
        discussion: """
            Keys live in the database named by the config's storage: setting (or --storage), stored as a SHA-256 hash: \
            a key's secret is shown once, when it is created. Clients send it as "Authorization: Bearer <secret>" or \
            "x-api-key: <secret>". Running gateways (every replica, on PostgreSQL) see new and revoked keys within a \
            second, without a restart.
            """,
        subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self]
    )
}
