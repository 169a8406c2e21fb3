import Foundation
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Translates a Gemini `GenerateContentResponse` into an OpenAI `chat.completion`, and holds the
/// mapping rules the stream translator shares: finish reasons, usage and tool calls.
///
/// Candidates become choices; non-thought text parts are concatenated into `content`;
/// `functionCall` parts become `tool_calls` with synthesised `call_…` ids when Gemini sent none;
/// `STOP` with tool calls becomes `tool_calls`. A blocked prompt (no candidates, a
/// `promptFeedback.blockReason`) becomes an empty `content_filter` answer. A function call Gemini
/// could not form (`MALFORMED_FUNCTION_CALL` and kin) is an error, never a silent stop.
struct GeminiResponseTranslator {
    /// The model name written into the answer.
    var model: String
    /// How many choices the client asked for (`n`); a blocked prompt answers each of them.
    var choiceCount: Int = 1
    /// Where the ids and thought signatures of handed-out tool calls are remembered.
    var toolCallMemory: GeminiToolCallMemory?
    /// Makes an id for a tool call Gemini gave none.
    var makeToolCallID: @Sendable () -> String = { GeminiResponseTranslator.randomID(prefix: "call_") }

    /// The OpenAI `chat.completion` for `response`.
    ///
    /// - Throws: ``ProviderError`` when a candidate ended with a malformed function call or the
    ///   answer has neither candidates nor a block reason.
    func translate(_ response: JSONValue) throws(ProviderError) -> JSONValue {
        var choices: [JSONValue] = []
        if let candidates = response["candidates"]?.arrayValue, !candidates.isEmpty {
            for (position, candidate) in candidates.enumerated() {
                choices.append(try choice(for: candidate, position: position))
            }
        } else if response["promptFeedback"]?["blockReason"]?.stringValue != nil {
            for index in 0..<max(1, choiceCount) {
                choices.append([
                    "index": .integer(index),
                    "message": ["role": "assistant", "content": nil],
                    "finish_reason": "content_filter",
                ])
            }
        } else {
            throw ProviderError(kind: .protocolViolation, message: "Gemini's answer has no candidates and no block reason")
        }
        var completion: JSONValue = [
            "id": .string(Self.completionID(for: response)),
            "object": "chat.completion",
            "created": .integer(Int(Date().timeIntervalSince1970)),
            "model": .string(model),
            "choices": .array(choices),
        ]
        if let metadata = response["usageMetadata"], metadata.objectValue != nil {
            completion["usage"] = Self.usage(from: metadata)
        }
        return completion
    }

    private func choice(for candidate: JSONValue, position: Int) throws(ProviderError) -> JSONValue {
        let parts = candidate["content"]?["parts"]?.arrayValue ?? []
        let text = Self.text(of: parts)
        let toolCalls = toolCalls(in: parts)
        let finishReason = try Self.finishReason(
            candidate["finishReason"]?.stringValue,
            hasToolCalls: !toolCalls.isEmpty,
            finishMessage: candidate["finishMessage"]?.stringValue
        )
        var message: JSONValue = [
            "role": "assistant",
            "content": text.isEmpty && !toolCalls.isEmpty ? .null : .string(text),
        ]
        if !toolCalls.isEmpty { message["tool_calls"] = .array(toolCalls) }
        return [
            "index": .integer(candidate["index"]?.intValue ?? position),
            "message": message,
            "finish_reason": .string(finishReason ?? "stop"),
        ]
    }

    // MARK: Shared rules

    /// The concatenated text of `parts`, thought summaries and empty parts left out.
    static func text(of parts: [JSONValue]) -> String {
        var text = ""
        for part in parts where part["thought"]?.boolValue != true {
            if let piece = part["text"]?.stringValue { text += piece }
        }
        return text
    }

    /// One OpenAI tool call per `functionCall` part, in order, with ids synthesised when Gemini
    /// gave none and remembered (with any thought signature) for the next turn.
    func toolCalls(in parts: [JSONValue]) -> [JSONValue] {
        var calls: [JSONValue] = []
        for part in parts {
            guard let functionCall = part["functionCall"], let name = functionCall["name"]?.stringValue else { continue }
            let upstreamID = functionCall["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let id = upstreamID ?? makeToolCallID()
            let arguments = functionCall["args"].map { $0.objectValue != nil ? $0.text : "{}" } ?? "{}"
            var call: JSONValue = [
                "id": .string(id),
                "type": "function",
                "function": ["name": .string(name), "arguments": .string(arguments)],
            ]
            let signature = part["thoughtSignature"]?.stringValue
            if let signature {
                // Google's own OpenAI-compatible endpoint hands the signature out the same way.
                call["extra_content"] = ["google": ["thought_signature": .string(signature)]]
            }
            if signature != nil || upstreamID != nil {
                toolCallMemory?.remember(
                    GeminiToolCallMemory.Record(thoughtSignature: signature, isUpstreamID: upstreamID != nil),
                    forToolCall: id
                )
            }
            calls.append(call)
        }
        return calls
    }

    /// OpenAI's `finish_reason` for Gemini's `finishReason`; nil when Gemini gave none.
    ///
    /// - Throws: ``ProviderError`` (kind `server`) for `MALFORMED_FUNCTION_CALL`,
    ///   `UNEXPECTED_TOOL_CALL` and `TOO_MANY_TOOL_CALLS`: the answer is broken, not finished.
    static func finishReason(_ reason: String?, hasToolCalls: Bool, finishMessage: String?) throws(ProviderError) -> String? {
        guard let reason else { return nil }
        switch reason {
        case "STOP":
            return hasToolCalls ? "tool_calls" : "stop"
        case "MAX_TOKENS":
            return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION":
            return "content_filter"
        case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS":
            let explanation =
                switch reason {
                case "MALFORMED_FUNCTION_CALL": "the model produced a function call that is not valid"
                case "UNEXPECTED_TOOL_CALL": "the model called a tool that was not offered"
                default: "the model made more tool calls than Gemini allows in one turn"
                }
            var message = "Gemini ended the answer with \(reason): \(explanation)"
            if let finishMessage, !finishMessage.isEmpty { message += " (\(finishMessage))" }
            message += ". Retrying may help; simpler tool schemas make it less likely."
            throw ProviderError(
                kind: .server,
                message: message,
                upstreamError: GatewayError(status: .badGateway, message: message, type: "upstream_error", code: reason.lowercased())
            )
        default:
            return hasToolCalls ? "tool_calls" : "stop"
        }
    }

    /// OpenAI `usage` from Gemini `usageMetadata`.
    ///
    /// `completion_tokens` includes thinking tokens (as OpenAI's includes reasoning tokens), and
    /// tool-use prompt tokens count as prompt tokens, so the parts add up to `totalTokenCount`.
    static func usage(from metadata: JSONValue) -> JSONValue {
        let prompt = (metadata["promptTokenCount"]?.intValue ?? 0) + (metadata["toolUsePromptTokenCount"]?.intValue ?? 0)
        let thoughts = metadata["thoughtsTokenCount"]?.intValue ?? 0
        let completion = (metadata["candidatesTokenCount"]?.intValue ?? 0) + thoughts
        let total = metadata["totalTokenCount"]?.intValue ?? prompt + completion
        return [
            "prompt_tokens": .integer(prompt),
            "completion_tokens": .integer(completion),
            "total_tokens": .integer(total),
            "prompt_tokens_details": ["cached_tokens": .integer(metadata["cachedContentTokenCount"]?.intValue ?? 0)],
            "completion_tokens_details": ["reasoning_tokens": .integer(thoughts)],
        ]
    }

    /// `chatcmpl-` and Gemini's `responseId`, or a random id.
    static func completionID(for response: JSONValue) -> String {
        if let responseID = response["responseId"]?.stringValue, !responseID.isEmpty { return "chatcmpl-\(responseID)" }
        return randomID(prefix: "chatcmpl-")
    }

    /// `prefix` and 24 random letters and digits.
    static func randomID(prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
