import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyRouting
import NIOCore

/// Splices a restarted answer onto the text a client already has: the chunks of a target that was
/// asked the client's request again, without a prefill, are withheld while their text reproduces
/// the text already sent, byte for byte; the chunk that goes past it is sent with only the new
/// text, and every later chunk as it comes. The first chunk whose text departs from what was sent,
/// that calls a tool, or that ends the answer before it has caught up, is a divergence.
///
/// A pure state machine over `chat.completion.chunk`s of one choice: the relay feeds it and does
/// what each ``Step`` says.
///
/// ```swift
/// var splice = StreamSplice(sent: transcript.text)
/// switch splice.admit(chunk) {
/// case .withhold: break
/// case .send(let chunk): write(chunk)
/// case .diverged: cancelUpstream()
/// }
/// ```
public struct StreamSplice: Sendable {
    /// What to do with one chunk.
    public enum Step: Sendable, Equatable {
        /// Its text is already in the client's hands: send nothing.
        case withhold
        /// Send this chunk: the one admitted, or, for the chunk that goes past the text already sent,
        /// a copy carrying only the new text.
        case send(ByteBuffer)
        /// The new answer departed from the text already sent; nothing of it may be sent.
        case diverged
    }

    /// The text the client already has, as UTF-8.
    private let sent: [UInt8]
    /// How much of it the new answer has reproduced.
    private var matched = 0
    /// The text the new answer wrote, withheld or sent, as a running token estimate: what its
    /// upstream bills when it reports no usage.
    private var written = TokenTally()

    /// The estimated tokens of the text the new answer wrote, withheld or sent.
    public var writtenTokens: Int { written.tokensClosingOpenPiece }

    /// A splice onto `sent`, the text already streamed to the client.
    public init(sent: String) {
        self.sent = Array(sent.utf8)
    }

    /// Whether the new answer has reproduced all the text already sent; every chunk is then sent as
    /// it comes.
    public var hasCaughtUp: Bool { matched == sent.count }

    /// What to do with `chunk`, the new answer's next chunk.
    public mutating func admit(_ chunk: ByteBuffer) -> Step {
        guard case .object(var object)? = try? JSONValue.parse(chunk) else { return hasCaughtUp ? .send(chunk) : .diverged }
        let choices = object["choices"]?.arrayValue ?? []
        if hasCaughtUp {
            for choice in choices { count(choice["delta"]?["content"]?.stringValue ?? "") }
            return .send(chunk)
        }
        // A chunk without choices (a provider's content-filter notice, say) says nothing of the text.
        if choices.isEmpty { return .withhold }
        guard choices.count == 1, case .object(var choice) = choices[0], (choice["index"]?.intValue ?? 0) == 0 else {
            // Another choice than the one the client has: not the same answer.
            return .diverged
        }
        var delta = choice["delta"]?.objectValue ?? JSONObject()
        let written = delta["content"]?.stringValue ?? ""
        count(written)
        let text = Array(written.utf8)
        if let calls = delta["tool_calls"], !calls.isNull { return .diverged }
        let finishes = choice["finish_reason"].map { !$0.isNull } ?? false
        let remaining = sent.count - matched
        if text.count <= remaining {
            guard sent[matched..<(matched + text.count)].elementsEqual(text) else { return .diverged }
            matched += text.count
            guard finishes else { return .withhold }
            // An answer that ends where the cut was is complete; one that ends before it is not.
            guard hasCaughtUp else { return .diverged }
            delta["content"] = nil
        } else {
            guard text[0..<remaining].elementsEqual(sent[matched...]) else { return .diverged }
            matched = sent.count
            delta["content"] = .string(String(decoding: text[remaining...], as: UTF8.self))
        }
        // Roles were announced, and the log probabilities cover text the client already has.
        delta["role"] = nil
        choice["delta"] = .object(delta)
        if choice["logprobs"] != nil { choice["logprobs"] = .null }
        object["choices"] = .array([.object(choice)])
        return .send(JSONValue.object(object).buffer)
    }

    private mutating func count(_ text: String) {
        var text = text
        text.withUTF8 { written.append(UnsafeRawBufferPointer($0)) }
    }
}
