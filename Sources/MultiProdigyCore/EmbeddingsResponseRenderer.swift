import Foundation
import MultiProdigyJSON
import NIOCore

/// Renders vectors as OpenAI's embeddings response: `{"object":"list","data":[...],"model","usage"}`.
public enum EmbeddingsResponseRenderer {
    /// The response body for `vectors`, in input order.
    ///
    /// - Parameters:
    ///   - vectors: One vector per input.
    ///   - model: The `model` the response reports.
    ///   - promptTokens: Tokens the upstream counted, or nil (reported as 0).
    ///   - format: `float` writes JSON numbers; `base64` writes each vector's little-endian float32
    ///     bytes in base64, as OpenAI does.
    public static func render(
        _ vectors: [[Float]],
        model: String,
        promptTokens: Int?,
        format: EmbeddingsRequest.EncodingFormat
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"object\":\"list\",\"data\":[")
        for (index, vector) in vectors.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeString("{\"object\":\"embedding\",\"index\":\(index),\"embedding\":")
            switch format {
            case .float:
                buffer.writeStaticString("[")
                for (position, value) in vector.enumerated() {
                    if position > 0 { buffer.writeStaticString(",") }
                    buffer.writeString(value.isFinite ? String(describing: value) : "0")
                }
                buffer.writeStaticString("]")
            case .base64:
                JSONWriter.writeString(base64(vector), into: &buffer)
            }
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("],\"model\":")
        JSONWriter.writeString(model, into: &buffer)
        let tokens = promptTokens ?? 0
        buffer.writeString(",\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
        return buffer
    }

    /// The little-endian float32 bytes of `vector`, base64-encoded.
    package static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
