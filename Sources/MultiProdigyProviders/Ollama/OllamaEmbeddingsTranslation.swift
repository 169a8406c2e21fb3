import MultiProdigyJSON
import MultiProdigyCore

/// Translates OpenAI embeddings requests to Ollama's `POST /api/embed` and its answers back.
///
/// Pure: no I/O.
enum OllamaEmbeddingsTranslation {
    /// The `/api/embed` body: `{"model", "input": [texts], "dimensions"?, "truncate"?, "options"?, "keep_alive"?}`.
    ///
    /// - Throws: ``GatewayError`` (400) when an input is token ids, which Ollama cannot embed.
    package static func request(_ request: EmbeddingsRequest, model: String, settings: OllamaSettings) throws(GatewayError) -> JSONValue {
        guard let texts = request.texts else {
            throw .invalidRequest(
                "Ollama embeds text only: send 'input' as a string or an array of strings, not token ids.",
                param: "input",
                code: "invalid_type"
            )
        }
        var body: JSONValue = ["model": .string(model), "input": .array(texts.map { .string($0) })]
        if let dimensions = request.dimensions { body["dimensions"] = .integer(dimensions) }
        if let truncate = settings.truncate { body["truncate"] = .bool(truncate) }
        if let contextLength = settings.contextLength { body["options"] = ["num_ctx": .integer(contextLength)] }
        if let keepAlive = settings.keepAlive { body["keep_alive"] = keepAlive }
        return body
    }

    /// The vectors of Ollama's answer, one per input, and its prompt token count.
    ///
    /// - Throws: ``ProviderError`` of kind `protocolViolation` when the answer does not hold
    ///   `inputCount` arrays of numbers.
    package static func result(from response: JSONValue, inputCount: Int) throws(ProviderError) -> EmbeddingsResult {
        guard let embeddings = response["embeddings"]?.arrayValue else {
            throw ProviderError(kind: .protocolViolation, message: "Ollama's embeddings answer has no 'embeddings' array")
        }
        guard embeddings.count == inputCount else {
            throw ProviderError(
                kind: .protocolViolation,
                message: "Ollama returned \(embeddings.count) embeddings for \(inputCount) inputs"
            )
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(embeddings.count)
        for embedding in embeddings {
            guard let vector = embedding.floatArrayValue else {
                throw ProviderError(
                    kind: .protocolViolation,
                    message: "Ollama's embeddings answer holds a vector that is not an array of numbers"
                )
            }
            vectors.append(vector)
        }
        return .vectors(vectors, promptTokens: response["prompt_eval_count"]?.intValue)
    }

}
