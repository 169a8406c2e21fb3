import MultiProdigyJSON
import NIOCore

/// A validated `POST /v1/embeddings` body.
///
/// The body is kept as sent, so OpenAI-compatible upstreams receive it unchanged but for `model`;
/// native adapters read ``inputs``, ``dimensions`` and ``encodingFormat``.
public struct EmbeddingsRequest: Sendable {
    /// How the client wants each vector encoded.
    public enum EncodingFormat: String, Sendable {
        /// A JSON array of numbers.
        case float
        /// The little-endian float32 bytes, base64-encoded.
        case base64
    }

    /// The client's body, unchanged.
    public let body: ByteBuffer
    /// The `model` the client asked for.
    public let model: String
    /// The inputs, in order.
    public let inputs: [EmbeddingsInput]
    /// The requested vector encoding.
    public let encodingFormat: EncodingFormat
    /// The requested number of dimensions, if any.
    public let dimensions: Int?

    /// The most inputs one request may carry (OpenAI's limit).
    public static let maximumInputs = 2048

    /// Parses and validates a request body.
    ///
    /// - Throws: ``GatewayError`` with status 400 and type `invalid_request_error`.
    public static func parse(_ body: ByteBuffer) throws(GatewayError) -> EmbeddingsRequest {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body)
        } catch {
            throw .invalidRequest(
                "We could not parse the JSON body of your request: \(error.reason) at byte \(error.offset). Send a valid JSON object.",
                code: "invalid_json"
            )
        }
        guard case .object(let object) = json else {
            throw .invalidRequest("The request body must be a JSON object with 'model' and 'input'.", code: "invalid_json")
        }
        guard let modelValue = object["model"] else {
            throw .invalidRequest("You must provide a model parameter.", param: "model", code: "missing_required_parameter")
        }
        guard let model = modelValue.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' must be a non-empty string.", param: "model", code: "invalid_type")
        }
        guard let input = object["input"] else {
            throw .invalidRequest("You must provide an input parameter.", param: "input", code: "missing_required_parameter")
        }
        let inputs = try parseInputs(input)
        var encodingFormat = EncodingFormat.float
        if let format = object["encoding_format"], !format.isNull {
            guard let text = format.stringValue, let parsed = EncodingFormat(rawValue: text) else {
                throw .invalidRequest("'encoding_format' must be 'float' or 'base64'.", param: "encoding_format", code: "invalid_value")
            }
            encodingFormat = parsed
        }
        var dimensions: Int?
        if let value = object["dimensions"], !value.isNull {
            guard let count = value.intValue, count > 0 else {
                throw .invalidRequest("'dimensions' must be a positive integer.", param: "dimensions", code: "invalid_value")
            }
            dimensions = count
        }
        return EmbeddingsRequest(body: body, model: model, inputs: inputs, encodingFormat: encodingFormat, dimensions: dimensions)
    }

    private static func parseInputs(_ input: JSONValue) throws(GatewayError) -> [EmbeddingsInput] {
        let invalid = GatewayError.invalidRequest(
            "'input' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids.",
            param: "input",
            code: "invalid_type"
        )
        switch input {
        case .string(let text):
            return [.text(text)]
        case .array(let elements):
            guard !elements.isEmpty else {
                throw .invalidRequest("'input' must not be an empty array.", param: "input", code: "invalid_value")
            }
            if elements.allSatisfy({ $0.intValue != nil }) {
                return [.tokens(elements.compactMap(\.intValue))]
            }
            guard elements.count <= maximumInputs else {
                throw .invalidRequest("'input' may hold at most \(maximumInputs) items.", param: "input", code: "invalid_value")
            }
            var inputs: [EmbeddingsInput] = []
            for element in elements {
                switch element {
                case .string(let text): inputs.append(.text(text))
                case .array(let tokens) where !tokens.isEmpty && tokens.allSatisfy({ $0.intValue != nil }):
                    inputs.append(.tokens(tokens.compactMap(\.intValue)))
                default: throw invalid
                }
            }
            return inputs
        default:
            throw invalid
        }
    }

    /// The texts of every input; nil when any input is token ids.
    public var texts: [String]? {
        var texts: [String] = []
        for input in inputs {
            guard case .text(let text) = input else { return nil }
            texts.append(text)
        }
        return texts
    }

    /// The body to send an OpenAI-compatible upstream: the client's, with `model` replaced.
    public func upstreamBody(model upstreamModel: String) -> ByteBuffer {
        body.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return body }
            return JSONObjectRewriter.rewrite(
                body,
                members: members,
                replacing: [(key: "model", value: JSONWriter.encodedString(upstreamModel))],
                removing: [ChatCompletionRequest.extensionField]
            )
        }
    }
}
