import Foundation
import MultiProdigy
import NIOCore
import NIOHTTP1

/// A custom backend: an in-house text-generation server with its own small protocol,
/// `POST {base_url}/generate` `{"prompt": "...", "max_tokens": 256}` → `{"text": "...", "prompt_tokens": 5, "completion_tokens": 7}`.
///
/// It shows everything a custom provider needs: reading its `ProviderConfig`, calling the upstream
/// with the gateway's shared HTTP client, answering in OpenAI's shape, streaming (here a
/// non-streaming backend answers a stream in one chunk), and reporting failures as `ProviderError`
/// so the gateway fails over.
struct MyModelClient: LLMProvider {
    private let upstream: UpstreamHTTPClient
    private let generateURL: String

    init(config: ProviderConfig, context: ProviderContext) throws {
        var headers = HTTPHeaders()
        if let apiKey = config.apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        upstream = try UpstreamHTTPClient(config: config, context: context, headers: headers)
        var base = config.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        generateURL = base + "/generate"
    }

    func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult {
        let answer = try await generate(call)
        let message: JSONValue = ["role": "assistant", "content": .string(answer.text)]
        let completion: JSONValue = [
            "id": .string("chatcmpl-\(UUID().uuidString)"),
            "object": "chat.completion",
            "created": .integer(Int(Date().timeIntervalSince1970)),
            "model": .string(call.upstreamModel),
            "choices": [["index": 0, "message": message, "finish_reason": "stop"]],
            "usage": answer.usage,
        ]
        return ChatCompletionResult(body: completion.buffer)
    }

    func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream {
        let answer = try await generate(call)
        let id = "chatcmpl-\(UUID().uuidString)"
        let created = Int(Date().timeIntervalSince1970)
        func chunk(_ delta: JSONValue, finish: JSONValue = nil) -> ChatStreamEvent {
            let body: JSONValue = [
                "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created),
                "model": .string(call.upstreamModel),
                "choices": [["index": 0, "delta": delta, "finish_reason": finish]],
            ]
            return .chunk(body.buffer)
        }
        var events = [
            chunk(["role": "assistant", "content": ""]),
            chunk(["content": .string(answer.text)]),
            chunk([:], finish: "stop"),
        ]
        // Always the usage chunk: the gateway prices the answer with it, and removes it when the
        // client did not ask for usage.
        let usage: JSONValue = [
            "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created),
            "model": .string(call.upstreamModel), "choices": [], "usage": answer.usage,
        ]
        events.append(.chunk(usage.buffer))
        events.append(.done)
        let (sequence, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        for event in events { continuation.yield(event) }
        continuation.finish()
        return ChatCompletionStream(events: sequence)
    }

    /// Sends the conversation as one prompt and reads the in-house answer.
    private func generate(_ call: ChatCompletionCall) async throws -> (text: String, usage: JSONValue) {
        let request = try JSONValue.parse(call.request.body)
        let prompt = (request["messages"]?.arrayValue ?? [])
            .map { "\($0["role"]?.stringValue ?? "user"): \($0["content"]?.stringValue ?? "")" }
            .joined(separator: "\n")
        var body: JSONValue = ["prompt": .string(prompt)]
        if let maxTokens = request["max_tokens"]?.intValue { body["max_tokens"] = .integer(maxTokens) }
        let answer = try await upstream.fetch(url: generateURL, body: body.buffer, deadline: call.responseDeadline, logger: call.logger)
        guard let json = try? JSONValue.parse(answer), let text = json["text"]?.stringValue else {
            throw ProviderError(kind: .protocolViolation, message: "the in-house server's answer has no \"text\"")
        }
        let promptTokens = json["prompt_tokens"]?.intValue ?? 0
        let completionTokens = json["completion_tokens"]?.intValue ?? 0
        let usage: JSONValue = [
            "prompt_tokens": .integer(promptTokens),
            "completion_tokens": .integer(completionTokens),
            "total_tokens": .integer(promptTokens + completionTokens),
        ]
        return (text, usage)
    }
}
