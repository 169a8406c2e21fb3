// `@testable` imports need a debug build (`-enable-testing`); a release build of the package skips this target.
#if DEBUG
import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

@testable import MultiProdigyProviders

/// Each provider's stream translator on any stream, framed as the provider frames it.
///
/// Properties, on any bytes:
/// - a translator that writes its own chunks (Anthropic, Gemini, Ollama) writes only JSON objects on
///   one line: a `chat.completion.chunk` with a `choices` array, or an `{"error":…}` object;
/// - a translator that passes the upstream's chunks on (OpenAI, TGI and the HF router) passes a chunk
///   byte for byte, or writes it as a JSON object on one line;
/// - a translator fails only with ``ProviderError``.
enum StreamsFuzzTarget {
    static let summary = "Anthropic, Gemini, Ollama, TGI and OpenAI stream translators write valid OpenAI chunks"

    /// The translators, by the input's first byte.
    enum Provider: CaseIterable {
        case openAI, anthropic, gemini, ollama, huggingFace
    }

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        let provider = Provider.allCases[input.choice(of: Provider.allCases.count)]
        let includeUsage = input.byte() & 1 == 1
        let stream = input.rest()
        switch provider {
        case .openAI:
            try translate(sse(stream), with: OpenAIStreamTranslator(), passesThrough: true)
        case .huggingFace:
            try translate(sse(stream), with: HuggingFaceStreamTranslator(), passesThrough: true)
        case .anthropic:
            let translator = AnthropicStreamTranslator(
                model: "claude-fuzz",
                includeUsage: includeUsage,
                providerName: "anthropic",
                created: 1
            )
            try translate(sse(stream), with: translator, passesThrough: false)
        case .gemini:
            let responses = GeminiResponseTranslator(model: "gemini-fuzz", choiceCount: 2, makeToolCallID: { "call_fuzz" })
            let translator = GeminiStreamTranslator(
                providerName: "gemini",
                includeUsage: includeUsage,
                choiceCount: 2,
                responses: responses
            )
            try translate(sse(stream), with: translator, passesThrough: false)
        case .ollama:
            let translator = OllamaStreamTranslator(id: "chatcmpl-fuzz", created: 1, model: "llama-fuzz", includeUsage: includeUsage)
            try translate(ndjson(stream), with: translator, passesThrough: false)
        }
    }

    /// `stream`'s server-sent events.
    static func sse(_ stream: [UInt8]) -> [SSEEvent] {
        var framer = SSEEventFramer()
        var events: [SSEEvent] = []
        try? framer.feed(ByteBuffer(bytes: stream), into: &events)
        if let last = framer.finish() { events.append(last) }
        return events
    }

    /// `stream`'s NDJSON lines.
    static func ndjson(_ stream: [UInt8]) -> [ByteBuffer] {
        var framer = JSONLineFramer()
        var lines: [ByteBuffer] = []
        try? framer.feed(ByteBuffer(bytes: stream), into: &lines)
        if let last = framer.finish() { lines.append(last) }
        return lines
    }

    /// Runs `translator` over `units` and its end, checking every chunk it writes.
    static func translate<Translator: StreamTranslator>(
        _ units: [Translator.Unit],
        with translator: Translator,
        passesThrough: Bool
    ) throws(FuzzViolation) {
        var translator = translator
        for unit in units {
            let events: [ChatStreamEvent]
            do {
                events = try translator.translate(unit)
            } catch is ProviderError {
                return
            } catch {
                throw FuzzViolation("a stream translator threw \(type(of: error)), not a ProviderError")
            }
            try checkChunks(events, from: unit, passesThrough: passesThrough)
        }
        do {
            try checkChunks(try translator.finish(), from: nil, passesThrough: passesThrough)
        } catch let violation as FuzzViolation {
            throw violation
        } catch is ProviderError {
            return
        } catch {
            throw FuzzViolation("a stream translator's finish threw \(type(of: error)), not a ProviderError")
        }
    }

    /// Throws unless every chunk of `events` is one the translator may write for `unit`.
    static func checkChunks(_ events: [ChatStreamEvent], from unit: Any?, passesThrough: Bool) throws(FuzzViolation) {
        for case .chunk(let chunk) in events {
            if passesThrough, let event = unit as? SSEEvent, Array(chunk.readableBytesView) == event.data { continue }
            try FuzzViolation.require(!chunk.readableBytesView.contains(0x0A), "a translated chunk spans lines: \(String(buffer: chunk))")
            guard let value = try? JSONValue.parse(chunk), value.objectValue != nil else {
                throw FuzzViolation("a translated chunk is not a JSON object: \(String(buffer: chunk))")
            }
            if passesThrough || value["error"]?.objectValue != nil { continue }
            try FuzzViolation.require(
                value["object"] == "chat.completion.chunk" && value["choices"]?.arrayValue != nil,
                "a translated chunk is neither a chat.completion.chunk with choices nor an error: \(String(buffer: chunk))"
            )
        }
    }
}
#endif
