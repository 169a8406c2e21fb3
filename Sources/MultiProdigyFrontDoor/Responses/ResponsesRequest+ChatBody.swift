import MultiProdigyJSON
import NIOCore

extension ResponsesRequest {
    /// The OpenAI chat completions body that serves this request on a target without a Responses
    /// API.
    ///
    /// `messages` are the instructions as a `system` message, then `history` (the stored
    /// conversation this request continues: earlier inputs and outputs as Responses items), then
    /// ``inputItems``, rendered as ``ResponsesChatTranscript`` describes. Function tools become chat
    /// tools, with `tool_choice` and `parallel_tool_calls` (which chat accepts only beside tools);
    /// `max_output_tokens` becomes `max_completion_tokens`, the name OpenAI's reasoning models
    /// require and the gateway's Anthropic, Gemini, Ollama and Hugging Face translations read;
    /// `text.format` becomes `response_format`, `reasoning.effort` `reasoning_effort`; `temperature`,
    /// `top_p` and `user` are copied. `metadata` and `store` stay with the gateway. A stream asks for
    /// the final usage chunk, which the gateway prices.
    public func chatBody(history: [JSONValue]) -> ByteBuffer {
        var body: JSONValue = ["model": .string(model)]
        var messages: [JSONValue] = []
        if let instructions, !instructions.isEmpty {
            messages.append(["role": "system", "content": .string(instructions)])
        }
        messages += ResponsesChatTranscript.messages(from: history + inputItems)
        if messages.isEmpty, !nativeOnlyInputs.isEmpty {
            // Only a native target can serve this input; the chat body is for planning alone.
            messages.append(["role": "user", "content": ""])
        }
        body["messages"] = .array(messages)
        if !chatTools.isEmpty {
            body["tools"] = .array(chatTools)
            if let chatToolChoice { body["tool_choice"] = chatToolChoice }
            if let parallelToolCalls { body["parallel_tool_calls"] = .bool(parallelToolCalls) }
        }
        if let maxOutputTokens { body["max_completion_tokens"] = .integer(maxOutputTokens) }
        if let temperature { body["temperature"] = temperature }
        if let topP { body["top_p"] = topP }
        if let responseFormat { body["response_format"] = responseFormat }
        if let reasoningEffort { body["reasoning_effort"] = .string(reasoningEffort) }
        if let user { body["user"] = .string(user) }
        if isStreaming {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return body.buffer
    }
}
