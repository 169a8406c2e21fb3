import Logging
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting
import MultiProdigyCore
import NIOCore
import Synchronization

/// Asks enabled providers which models they offer, for `GET /v1/models`, and caches the answers.
///
/// A provider is asked at most once per ``freshFor`` (a failed ask is remembered as long, so a dead
/// provider does not slow every listing), with a short deadline; a failure keeps its last good
/// list. Listing never fails because a provider is down.
final class ModelDiscovery: Sendable {
    private struct Entry: Sendable {
        var models: [String]
        var checkedAt: ContinuousClock.Instant
    }

    /// How long an answer is reused.
    let freshFor: Duration
    /// How long one provider may take to answer.
    let askTimeout: Duration
    private let providers: [(name: String, provider: any LLMProvider)]
    private let cache = Mutex<[String: Entry]>([:])
    private let refreshing = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    init(slots: [String: ProviderSlot], logger: Logger, freshFor: Duration = .seconds(60), askTimeout: Duration = .seconds(3)) {
        self.providers = slots.compactMap { name, slot in slot.provider.map { (name, $0) } }.sorted { $0.name < $1.name }
        self.logger = logger
        self.freshFor = freshFor
        self.askTimeout = askTimeout
    }

    /// Every discovered model as `(provider, model)`, providers in name order.
    ///
    /// Concurrent callers share one refresh, and a refresh takes at most about ``askTimeout`` even
    /// when a provider ignores its deadline.
    func models() async -> [(provider: String, model: String)] {
        let now = ContinuousClock.now
        let needsRefresh = cache.withLock { cache in
            providers.contains { cache[$0.name].map { now - $0.checkedAt >= freshFor } ?? true }
        }
        if needsRefresh {
            let refresh = refreshing.withLock { current -> Task<Void, Never> in
                if let current { return current }
                let task = Task { await self.refreshStale() }
                current = task
                return task
            }
            await refresh.value
            refreshing.withLock { current in
                if current == refresh { current = nil }
            }
        }
        let snapshot = cache.withLock { $0 }
        return providers.flatMap { name, _ in (snapshot[name]?.models ?? []).map { (provider: name, model: $0) } }
    }

    private func refreshStale() async {
        let now = ContinuousClock.now
        let stale = cache.withLock { cache in
            providers.filter { cache[$0.name].map { now - $0.checkedAt >= freshFor } ?? true }
        }
        await withTaskGroup(of: (String, [String]?).self) { group in
            for (name, provider) in stale {
                group.addTask { (name, await self.ask(provider, named: name)) }
            }
            for await (name, models) in group {
                cache.withLock { cache in
                    let previous = cache[name]?.models ?? []
                    cache[name] = Entry(models: models ?? previous, checkedAt: ContinuousClock.now)
                }
            }
        }
    }

    /// One provider's models, or nil when it failed or did not answer within ``askTimeout``.
    private func ask(_ provider: any LLMProvider, named name: String) async -> [String]? {
        let deadline = NIODeadline.now() + askTimeout.timeAmount
        let logger = logger
        let answer = OneShotSignal<[String]?>()
        let call = Task {
            do {
                answer.resolve(.success(try await provider.discoverModels(deadline: deadline, logger: logger)))
            } catch {
                logger.debug("model discovery failed", metadata: ["provider": "\(name)", "error": "\(ProviderError.classify(error))"])
                answer.resolve(.success(nil))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: askTimeout)
            answer.resolve(.success(nil))
        }
        let models = (try? await answer.wait()) ?? nil
        call.cancel()
        timer.cancel()
        return models
    }
}
