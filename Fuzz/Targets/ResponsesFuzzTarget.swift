// `@testable` imports need a debug build (`-enable-testing`); a release build of the package skips this target.
#if DEBUG
import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

@testable import MultiProdigyProviders

/// Each provider's whole-answer translator on any answer body.
///
/// Properties, on any bytes: a translator that builds the answer (Anthropic, Gemini, Ollama) gives a
/// JSON `chat.completion` object with a `choices` array, or a ``ProviderError``; the TGI translator
/// gives the body unchanged or a JSON object.
enum ResponsesFuzzTarget {
    static let summary = "Anthropic, Gemini, Ollama and TGI answer translators give a chat.completion or a ProviderError"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        let provider = input.choice(of: 4)
        let body = ByteBuffer(bytes: input.rest())
        if provider == 3 {
            let translated = HuggingFaceResponseTranslator.completion(from: body)
            if translated == body { return }
            guard let value = try? JSONValue.parse(translated), value.objectValue != nil else {
                throw FuzzViolation("the TGI translator wrote an answer that is not a JSON object")
            }
            return
        }
        // A ProviderError is a sound answer to a body that is not one; nil: not JSON, nothing to translate.
        guard let answer = try? translate(body, provider: provider) ?? nil else { return }
        let written = answer.buffer
        guard let reparsed = try? JSONValue.parse(written) else {
            throw FuzzViolation("a translated answer does not parse: \(String(buffer: written))")
        }
        try FuzzViolation.require(
            reparsed["object"] == "chat.completion" && reparsed["choices"]?.arrayValue != nil,
            "a translated answer is not a chat.completion with choices: \(String(buffer: written))"
        )
    }

    /// The chat completion Anthropic's (0), Gemini's (1) or Ollama's (2) translator makes of `body`.
    static func translate(_ body: ByteBuffer, provider: Int) throws(ProviderError) -> JSONValue? {
        switch provider {
        case 0:
            return try AnthropicResponseTranslator.completion(from: body, model: "claude-fuzz", created: 1)
        case 1:
            guard let response = try? JSONValue.parse(body) else { return nil }
            let translator = GeminiResponseTranslator(model: "gemini-fuzz", choiceCount: 2, makeToolCallID: { "call_fuzz" })
            return try translator.translate(response)
        default:
            guard let response = try? JSONValue.parse(body) else { return nil }
            return try OllamaResponseTranslator.completion(from: response, id: "chatcmpl-fuzz", created: 1, model: "llama-fuzz")
        }
    }
}
#endif
