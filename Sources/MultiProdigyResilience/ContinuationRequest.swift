import MultiProdigyJSON
import MultiProdigyCore
import NIOCore

/// Builds the request that asks a target to finish an answer another target left incomplete.
///
/// The client's body, with the text already streamed appended as a trailing assistant message
/// (a "prefill"), `stream: true`, and for ``ContinuationStyle/continueFinalMessage`` the vLLM-style
/// fields that make an OpenAI-compatible server continue that message rather than start a new one.
///
/// ```swift
/// let request = try ContinuationRequest.make(continuing: chat, partialAnswer: "Hello wor", style: .prefill)
/// ```
public enum ContinuationRequest {
    /// The continuation body for `chat`, or nil when its body is not an object with a `messages` array.
    ///
    /// When the client's last message is already an assistant message with string content (its own
    /// prefill), the partial answer extends it, since the model was continuing that message.
    ///
    /// - Parameters:
    ///   - chat: The client's request.
    ///   - partialAnswer: The text the client has been sent so far.
    ///   - style: How the target continues.
    public static func body(continuing chat: ChatCompletionRequest, partialAnswer: String, style: ContinuationStyle) -> ByteBuffer? {
        guard var body = try? JSONValue.parse(chat.body), var messages = body["messages"]?.arrayValue else { return nil }
        if let last = messages.last, last["role"]?.stringValue == "assistant", case .string(let prefill) = last["content"],
            last["tool_calls"] == nil
        {
            messages[messages.count - 1]["content"] = .string(prefill + partialAnswer)
        } else {
            messages.append(["role": "assistant", "content": .string(partialAnswer)])
        }
        body["messages"] = .array(messages)
        body["stream"] = true
        if style == .continueFinalMessage {
            body["continue_final_message"] = true
            body["add_generation_prompt"] = false
        }
        return body.buffer
    }

    /// The continuation request for `chat`, parsed like a client's.
    ///
    /// - Throws: ``GatewayError`` when the continuation body is not a valid chat request (it is
    ///   built from one that was, so this means the body could not be rebuilt).
    public static func make(
        continuing chat: ChatCompletionRequest,
        partialAnswer: String,
        style: ContinuationStyle
    ) throws(GatewayError) -> ChatCompletionRequest {
        guard let body = body(continuing: chat, partialAnswer: partialAnswer, style: style) else {
            throw .invalidRequest("The request body could not be rebuilt for a continuation.", param: "messages", code: "invalid_value")
        }
        return try ChatCompletionRequest.parse(body)
    }
}
