import MultiProdigyConfig
import MultiProdigyPrivacy
import Synchronization

/// Remembers, per tool-call id the gateway handed to a client, what Gemini needs back on the next
/// turn: the call's `thoughtSignature` and whether the id was Gemini's own.
///
/// Gemini 3 rejects a conversation whose earlier function calls lack their signatures, and OpenAI
/// clients drop fields they do not know, so the gateway keeps them. Ids Gemini did not send are
/// synthesised and must not be echoed (some models reject an `id` they never issued), while ids it
/// did send are echoed on `functionCall` and `functionResponse`. The memory is bounded: the oldest
/// entries go first.
final class GeminiToolCallMemory: Sendable {
    /// What is known about one tool call.
    struct Record: Sendable, Equatable {
        /// The signature Gemini attached to the call, if any.
        var thoughtSignature: String?
        /// Whether the id came from Gemini (and so is sent back).
        var isUpstreamID: Bool
    }

    private struct Storage {
        var records: [String: Record] = [:]
        var order: [String] = []
        var head = 0
    }

    private let capacity: Int
    private let storage = Mutex(Storage())

    /// Creates a memory that holds at most `capacity` tool calls.
    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// Remembers `record` for the tool call `id`.
    func remember(_ record: Record, forToolCall id: String) {
        storage.withLock { storage in
            if storage.records.updateValue(record, forKey: id) == nil { storage.order.append(id) }
            while storage.order.count - storage.head > capacity {
                storage.records[storage.order[storage.head]] = nil
                storage.head += 1
            }
            if storage.head >= capacity {
                storage.order.removeFirst(storage.head)
                storage.head = 0
            }
        }
    }

    /// What is remembered for the tool call `id`, if anything.
    func record(forToolCall id: String) -> Record? {
        storage.withLock { $0.records[id] }
    }
}
