import Synchronization

/// State a provider keeps across configuration reloads.
///
/// A reload builds every provider anew, but some of what a provider learns belongs to the
/// conversations in progress, not to the configuration: Gemini's thought signatures must come back
/// with the tool calls they were issued with, even when the client sends the next turn after a
/// SIGHUP. A gateway keeps one memory for its lifetime and hands it to every provider it builds
/// (``ProviderContext/memory``); a provider asks it for its state under a key that names what the
/// state belongs to, and gets the same object back after a reload.
///
/// ```swift
/// let calls = context.memory.state(for: "gemini-tool-calls \(config.name) \(config.baseURL)") {
///     GeminiToolCallMemory()
/// }
/// ```
public final class ProviderMemory: Sendable {
    private struct Storage {
        var states: [String: any Sendable & AnyObject] = [:]
        /// The keys asked for since ``beginConfiguration()``.
        var asked: Set<String> = []
    }

    private let storage = Mutex(Storage())

    /// Creates an empty memory.
    public init() {}

    /// The state stored under `key`, made by `make` the first time the key is asked for.
    ///
    /// Every caller of one key should ask for the same type: a caller asking for another type under
    /// a taken key gets a fresh state that is not kept, and the stored one stays.
    public func state<State: Sendable & AnyObject>(for key: String, make: () -> State) -> State {
        storage.withLock { storage in
            storage.asked.insert(key)
            guard let existing = storage.states[key] else {
                let state = make()
                storage.states[key] = state
                return state
            }
            return existing as? State ?? make()
        }
    }

    /// Starts building the providers of a configuration: from now on the memory notes which keys
    /// they ask for.
    package func beginConfiguration() {
        storage.withLock { $0.asked = [] }
    }

    /// The configuration begun last is running: forgets the states its providers did not ask for,
    /// those of providers it removed, renamed or pointed elsewhere. Providers of the configuration
    /// before keep the states they hold until their last request ends.
    package func forgetStatesNotAskedFor() {
        storage.withLock { storage in
            storage.states = storage.states.filter { storage.asked.contains($0.key) }
        }
    }

    /// How many states the memory holds.
    package var count: Int { storage.withLock { $0.states.count } }
}
