import MultiProdigyJSON
import MultiProdigyCore

/// Translates embeddings calls to Gemini's `:batchEmbedContents` and its answer back to vectors.
///
/// Request: `{"requests":[{"model":"models/X","content":{"parts":[{"text":…}]},"outputDimensionality":N}]}`,
/// one request per input. Answer: `{"embeddings":[{"values":[…]}]}` in input order. Gemini embeds
/// text only and reports no token usage.
enum GeminiEmbeddingsTranslator {
    /// The `:batchEmbedContents` body for `request` and the upstream model `model`.
    ///
    /// - Throws: ``GatewayError`` (400) when an input is token ids, which Gemini cannot embed.
    package static func request(for request: EmbeddingsRequest, model: String) throws(GatewayError) -> JSONValue {
        guard let texts = request.texts else {
            throw .invalidRequest(
                "Gemini embeds text only: send 'input' as a string or an array of strings, not token ids.",
                param: "input",
                code: "unsupported_parameter"
            )
        }
        let resource: JSONValue = .string("models/\(GeminiProvider.bareModelName(model))")
        return [
            "requests": .array(
                texts.map { text in
                    var entry: JSONValue = ["model": resource, "content": ["parts": [["text": .string(text)]]]]
                    if let dimensions = request.dimensions { entry["outputDimensionality"] = .integer(dimensions) }
                    return entry
                }
            )
        ]
    }

    /// The vectors of a `:batchEmbedContents` answer, checked to be one per input.
    ///
    /// - Throws: ``ProviderError`` (kind `protocolViolation`) for an answer of the wrong shape.
    package static func vectors(from response: JSONValue, expectedCount: Int) throws(ProviderError) -> [[Float]] {
        guard let embeddings = response["embeddings"]?.arrayValue else {
            throw ProviderError(kind: .protocolViolation, message: "Gemini's embeddings answer has no 'embeddings' array")
        }
        guard embeddings.count == expectedCount else {
            throw ProviderError(
                kind: .protocolViolation,
                message: "Gemini answered \(embeddings.count) embeddings for \(expectedCount) inputs"
            )
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(embeddings.count)
        for embedding in embeddings {
            guard let vector = embedding["values"]?.floatArrayValue else {
                throw ProviderError(kind: .protocolViolation, message: "a Gemini embedding's 'values' is not an array of numbers")
            }
            vectors.append(vector)
        }
        return vectors
    }
}
