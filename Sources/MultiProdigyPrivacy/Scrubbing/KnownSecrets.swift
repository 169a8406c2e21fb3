import Synchronization

/// The secrets a running gateway has been configured with, shared by its runtime and its log handler.
///
/// Every configuration the gateway loads adds its secrets (`learn(from:)`, which reads them with `SecretScrubber.secrets(in:)`), and
/// none is forgotten on reload: a key rotated out of the file is still a key, and requests that
/// started before the reload still use it. The log handler reads the current ``scrubber`` for
/// every line it writes, so a secret is masked in the logs from the moment its configuration is
/// loaded.
///
/// ```swift
/// let secrets = KnownSecrets()
/// LoggingSystem.bootstrap { GatewayLogHandler(label: $0, level: .info, secrets: secrets) }
/// secrets.learn(from: config)
/// var gateway = Gateway(config: config, logger: Logger(label: "multiprodigy"))
/// gateway.knownSecrets = secrets
/// ```
public final class KnownSecrets: Sendable {
    private let current = Mutex(SecretScrubber())

    /// Creates an empty set: until a configuration is learnt, only shaped credentials are masked.
    public init() {}

    /// A scrubber that knows every secret learnt so far.
    public var scrubber: SecretScrubber { current.withLock { $0 } }

    /// Adds `secrets`, and returns the scrubber that knows them.
    @discardableResult
    public func learn(_ secrets: some Sequence<String>) -> SecretScrubber {
        current.withLock { scrubber in
            scrubber = scrubber.adding(secrets)
            return scrubber
        }
    }
}
