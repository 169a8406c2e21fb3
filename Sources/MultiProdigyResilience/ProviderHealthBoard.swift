import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyRouting
import Synchronization

/// The latest active health check of each probed provider, shared by the checker, the failover
/// walk and `/ready`.
public final class ProviderHealthBoard: Sendable {
    private let probes = Mutex<[String: ProviderProbe]>([:])

    /// An empty board: every provider counts as up until a check says otherwise.
    public init() {}

    /// Records `probe` for `provider`; returns the previous result.
    @discardableResult
    public func record(_ probe: ProviderProbe, for provider: String) -> ProviderProbe? {
        probes.withLock { probes in
            defer { probes[provider] = probe }
            return probes[provider]
        }
    }

    /// Why `provider` is known to be down, or nil when its last check passed or it is not checked.
    public func downReason(for provider: String) -> String? {
        probes.withLock { $0[provider]?.downReason }
    }

    /// Every provider's latest check, read once (for a request's whole failover walk).
    public func snapshot() -> [String: ProviderProbe] {
        probes.withLock { $0 }
    }

    /// The latest check of `provider`, if any.
    public func probe(for provider: String) -> ProviderProbe? {
        probes.withLock { $0[provider] }
    }
}
