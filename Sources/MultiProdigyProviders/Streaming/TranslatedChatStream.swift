import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyCore

/// OpenAI chunk events made from an upstream's stream by a ``StreamTranslator``.
///
/// The sequence ends after the translator emits ``ChatStreamEvent/done``, even if the upstream
/// keeps its body open.
public struct TranslatedChatStream<Units: AsyncSequence & Sendable, Translator: StreamTranslator>: AsyncSequence, Sendable
where Units.Element == Translator.Unit {
    /// Each event in turn.
    public typealias Element = ChatStreamEvent
    /// Any error; ``ProviderError`` for upstream and protocol failures.
    public typealias Failure = any Error

    private let units: Units
    private let translator: Translator

    /// Translates `units` with `translator`.
    public init(units: Units, translator: Translator) {
        self.units = units
        self.translator = translator
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> Iterator {
        Iterator(units: units.makeAsyncIterator(), translator: translator)
    }

    /// Iterates the translated events.
    public struct Iterator: AsyncIteratorProtocol {
        var units: Units.AsyncIterator
        var translator: Translator
        var pending: [ChatStreamEvent] = []
        var pendingIndex = 0
        var finished = false

        /// The next event, or nil once the stream has ended.
        public mutating func next() async throws -> ChatStreamEvent? {
            while true {
                if pendingIndex < pending.count {
                    let event = pending[pendingIndex]
                    pendingIndex += 1
                    if event == .done {
                        finished = true
                        pending.removeAll()
                        pendingIndex = 0
                    }
                    return event
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if finished { return nil }
                do {
                    if let unit = try await units.next() {
                        pending = try translator.translate(unit)
                    } else {
                        finished = true
                        pending = try translator.finish()
                    }
                } catch {
                    finished = true
                    throw ProviderError.classify(error)
                }
            }
        }
    }
}
