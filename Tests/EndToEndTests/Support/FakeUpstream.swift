import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// What the fake upstream received.
struct RecordedRequest: Sendable {
    var method: HTTPRequest.Method = .post
    var path: String
    /// The query string, without `?` (empty when there is none).
    var query: String = ""
    var headers: HTTPFields
    var body: ByteBuffer
    /// When its whole body had arrived.
    var receivedAt = ContinuousClock.now

    var bodyString: String { String(buffer: body) }

    /// The body as a JSON dictionary (for assertions only; the gateway never does this).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bodyString.utf8))) as? [String: Any] ?? [:]
    }
}

/// How the fake answers one request.
enum FakeBehaviour: Sendable {
    /// A complete answer with this status and body.
    case respond(status: HTTPResponse.Status, body: String)
    /// A complete JSON answer with this status, extra headers (such as `Retry-After`) and body.
    case respondWithHeaders(status: HTTPResponse.Status, headers: [(String, String)], body: String)
    /// An SSE stream of these `data:` payloads, `delay` apart; `[DONE]` at the end if `done`.
    case stream(events: [String], delay: Duration = .zero, done: Bool = true)
    /// Wait `delay`, then behave as `then`.
    case delayed(Duration, then: FakeBehaviourBox)
    /// Send the SSE head and the first `events`, then wait for `gate` before sending `rest`.
    case gatedStream(first: [String], gate: Gate, rest: [String])
    /// Accept the request and never answer.
    case hang
    /// Stream `events` one every `interval`, forever, recording when the client goes away.
    case endlessStream(event: String, interval: Duration)
    /// Send the head, then `body` one byte every `interval`.
    case trickle(body: String, interval: Duration)
    /// Send `events` and `[DONE]`, then keep the connection open without ending the body.
    case streamThenHold(events: [String])
    /// Accept the request and never answer, recording when the client goes away.
    case hangUntilDisconnect
    /// `streaming` for requests with `"stream": true`, else `plain`.
    case byStreamFlag(streaming: FakeBehaviourBox, plain: FakeBehaviourBox)
    /// A complete answer with this status, content type and body (any protocol).
    case raw(status: HTTPResponse.Status, contentType: String, body: String)
    /// A 200 whose body is `chunks` written as is, `delay` apart, for any streaming protocol (NDJSON,
    /// SSE with `event:` lines). The body ends after the last chunk unless `hold` keeps it open.
    case chunked(contentType: String, chunks: [String], delay: Duration = .zero, hold: Bool = false)
    /// The behaviour for the request's path (first prefix match), else `otherwise`.
    case byPath([(prefix: String, behaviour: FakeBehaviourBox)], otherwise: FakeBehaviourBox)
    /// `behaviour` with `{ECHO}` in its bodies and events replaced by the request's `header` value,
    /// and `{ECHO_TOKEN}` by that value without its scheme (`Bearer `), as upstreams that quote
    /// the credentials they were sent in their errors do.
    case echoing(header: String, FakeBehaviourBox)
    /// An SSE stream of `event` repeated `count` times, as fast as the client takes it, then `last`
    /// and `[DONE]`: a long answer made on the fly, many events to a write, never held whole.
    case repeatedStream(event: String, count: Int, last: [String])
}

/// Boxes a behaviour so `FakeBehaviour` can be recursive.
final class FakeBehaviourBox: Sendable {
    let behaviour: FakeBehaviour
    init(_ behaviour: FakeBehaviour) { self.behaviour = behaviour }
}

/// A one-way latch tests open to let a fake continue.
final class Gate: Sendable {
    private let (stream, continuation) = AsyncStream<Void>.makeStream()
    func open() { continuation.finish() }
    func wait() async { for await _ in stream {} }
}

/// A real HTTP server on port 0, programmable per test: it answers every path with the scripted
/// behaviours, in OpenAI's wire format by default or in any provider's via `.raw` and `.chunked`.
final class FakeUpstream: Sendable {
    private let state = Mutex<
        (requests: [RecordedRequest], script: [FakeBehaviour], fallback: FakeBehaviour, disconnects: Int, endlessEvents: Int)
    >(
        ([], [], .hang, 0, 0)
    )

    /// Answers every request with `behaviour`, after any scripted ones.
    init(_ behaviour: FakeBehaviour = .respond(status: .ok, body: FakeUpstream.completion())) {
        state.withLock { $0.fallback = behaviour }
    }

    /// Answers the next requests with these behaviours, in order.
    func script(_ behaviours: [FakeBehaviour]) {
        state.withLock { $0.script.append(contentsOf: behaviours) }
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// How many endless streams saw their client go away.
    var disconnects: Int { state.withLock { $0.disconnects } }
    /// How many events endless streams have written.
    var endlessEventsWritten: Int { state.withLock { $0.endlessEvents } }

    private func nextBehaviour(for request: RecordedRequest) -> FakeBehaviour {
        state.withLock { state in
            state.requests.append(request)
            return state.script.isEmpty ? state.fallback : state.script.removeFirst()
        }
    }

    private func noteDisconnect() {
        state.withLock { $0.disconnects += 1 }
    }

    /// Runs the fake until the surrounding task is cancelled, over TLS with `tls` when given;
    /// `onPort` gets its port.
    func run(tls: TLSConfiguration? = nil, onPort: @escaping @Sendable (Int) async -> Void) async throws {
        let router = Router()
        // Every path and method: each test's script decides what a path means.
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 64 << 20)
            let recorded = RecordedRequest(
                method: request.method,
                path: request.uri.path,
                query: request.uri.query ?? "",
                headers: request.headers,
                body: body
            )
            return await self.respond(self.nextBehaviour(for: recorded), request: request, body: body)
        }
        router.post("**", use: handler)
        router.get("**", use: handler)
        var logger = Logger(label: "fake-upstream")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { await onPort($0.localAddress!.port!) },
            logger: logger
        )
        try await app.runService(gracefulShutdownSignals: [])
    }

    private func respond(_ behaviour: FakeBehaviour, request: Request, body: ByteBuffer) async -> Response {
        switch behaviour {
        case .respond(let status, let body):
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        case .respondWithHeaders(let status, let extra, let body):
            var headers: HTTPFields = [.contentType: "application/json"]
            for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .stream(let events, let delay, let done):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: .init { writer in
                    for event in events {
                        if delay > .zero { try await Task.sleep(for: delay) }
                        try await writer.write(ByteBuffer(string: "data: \(event)\n\n"))
                    }
                    if done { try await writer.write(ByteBuffer(string: "data: [DONE]\n\n")) }
                    try await writer.finish(nil)
                }
            )
        case .delayed(let delay, let next):
            try? await Task.sleep(for: delay)
            return await respond(next.behaviour, request: request, body: body)
        case .gatedStream(let first, let gate, let rest):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: .init { writer in
                    for event in first { try await writer.write(ByteBuffer(string: "data: \(event)\n\n")) }
                    await gate.wait()
                    for event in rest { try await writer.write(ByteBuffer(string: "data: \(event)\n\n")) }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                }
            )
        case .byStreamFlag(let streaming, let plain):
            // A body passed through natively keeps the client's spacing (`"stream": true`).
            let wantsStream =
                String(buffer: body).contains(#""stream":true"#)
                || RecordedRequest(path: "", headers: [:], body: body).json["stream"] as? Bool == true
            return await respond(wantsStream ? streaming.behaviour : plain.behaviour, request: request, body: body)
        case .raw(let status, let contentType, let body):
            return Response(
                status: status,
                headers: [.contentType: contentType],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        case .chunked(let contentType, let chunks, let delay, let hold):
            return Response(
                status: .ok,
                headers: [.contentType: contentType],
                body: .init { writer in
                    for chunk in chunks {
                        if delay > .zero { try await Task.sleep(for: delay) }
                        try await writer.write(ByteBuffer(string: chunk))
                    }
                    if hold { try await Task.sleep(for: .seconds(3600)) }
                    try await writer.finish(nil)
                }
            )
        case .echoing(let header, let behaviour):
            let value = request.headers[HTTPField.Name(header)!] ?? ""
            let token = value.split(separator: " ", maxSplits: 1).last.map(String.init) ?? value
            return await respond(behaviour.behaviour.echoing(value, token: token), request: request, body: body)
        case .byPath(let routes, let otherwise):
            let path = request.uri.path
            let match = routes.first { path.hasPrefix($0.prefix) }?.behaviour ?? otherwise
            return await respond(match.behaviour, request: request, body: body)
        case .repeatedStream(let event, let count, let last):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: .init { writer in
                    let frame = ByteBuffer(string: "data: \(event)\n\n")
                    let perWrite = max(1, (64 << 10) / frame.readableBytes)
                    var batch = ByteBuffer()
                    for _ in 0..<perWrite { batch.writeImmutableBuffer(frame) }
                    var sent = 0
                    while sent < count {
                        let events = min(perWrite, count - sent)
                        try await writer.write(events == perWrite ? batch : batch.getSlice(at: 0, length: events * frame.readableBytes)!)
                        sent += events
                    }
                    for event in last { try await writer.write(ByteBuffer(string: "data: \(event)\n\n")) }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                }
            )
        case .trickle(let text, let interval):
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init { writer in
                    for byte in text.utf8 {
                        try await writer.write(ByteBuffer(bytes: [byte]))
                        try await Task.sleep(for: interval)
                    }
                    try await writer.finish(nil)
                }
            )
        case .streamThenHold(let events):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: .init { writer in
                    for event in events { try await writer.write(ByteBuffer(string: "data: \(event)\n\n")) }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await Task.sleep(for: .seconds(3600))
                }
            )
        case .hangUntilDisconnect:
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await Task.sleep(for: .seconds(3600))
                }
            } catch {
                noteDisconnect()
            }
            return Response(status: .ok)
        case .hang:
            try? await Task.sleep(for: .seconds(3600))
            return Response(status: .ok)
        case .endlessStream(let event, let interval):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: .init { writer in
                    do {
                        try await request.body.consumeWithCancellationOnInboundClose { _ in
                            while true {
                                try await writer.write(ByteBuffer(string: "data: \(event)\n\n"))
                                self.state.withLock { $0.endlessEvents += 1 }
                                try await Task.sleep(for: interval)
                            }
                        }
                    } catch {
                        self.noteDisconnect()
                        throw error
                    }
                }
            )
        }
    }

    // MARK: Canned wire data

    /// A complete answer in the shape the request asks for: a short SSE stream, or a whole completion.
    static let answer = FakeBehaviour.byStreamFlag(
        streaming: FakeBehaviourBox(.stream(events: FakeUpstream.stream(["Hi", "!"]))),
        plain: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.completion()))
    )

    static func completion(model: String = "upstream-model", content: String = "Hello from upstream", extra: String = "") -> String {
        """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"\(model)",\
        "choices":[{"index":0,"message":{"role":"assistant","content":"\(content)","refusal":null},"logprobs":null,"finish_reason":"stop"}],\
        "usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13},"system_fingerprint":"fp_x"\(extra)}
        """
    }

    static func roleChunk(model: String = "upstream-model") -> String {
        #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#
    }

    static func contentChunk(_ text: String, model: String = "upstream-model") -> String {
        #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":null}]}"#
    }

    static func finishChunk(model: String = "upstream-model") -> String {
        #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
    }

    static func usageChunk(model: String = "upstream-model") -> String {
        #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#
    }

    static func stream(_ words: [String]) -> [String] {
        [roleChunk()] + words.map { contentChunk($0) } + [finishChunk()]
    }

    // MARK: Canned OpenAI Responses wire data

    /// A complete answer in the Responses API, in the shape the request asks for: its event stream
    /// (`"stream": true`) or its `response` object. Script it for `/v1/responses` with `.byPath`.
    static let responsesAnswer = FakeBehaviour.byStreamFlag(
        streaming: FakeBehaviourBox(responsesStream(["Hi", "!"])),
        plain: FakeBehaviourBox(.respond(status: .ok, body: FakeUpstream.response()))
    )

    /// The token counts of a Responses answer, as OpenAI reports them.
    struct ResponsesUsage: Sendable {
        var inputTokens = 9
        var cachedTokens = 0
        var cacheWriteTokens = 0
        var outputTokens = 4
        var reasoningTokens = 0

        /// The `usage` object.
        var json: String {
            #"{"input_tokens":\#(inputTokens),"input_tokens_details":{"cached_tokens":\#(cachedTokens),"cache_write_tokens":\#(cacheWriteTokens)},"output_tokens":\#(outputTokens),"output_tokens_details":{"reasoning_tokens":\#(reasoningTokens)},"total_tokens":\#(inputTokens + outputTokens)}"#
        }
    }

    /// `text` as a JSON string literal, quotes included.
    static func quoted(_ text: String) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed)) ?? Data("\"\"".utf8),
            as: UTF8.self
        )
    }

    /// The assistant message item of a Responses answer.
    static func responseMessageItem(id: String = "msg_fake1", text: String, status: String = "completed") -> String {
        let content = status == "completed" ? #"[{"type":"output_text","text":\#(quoted(text)),"annotations":[]}]"# : "[]"
        return #"{"type":"message","id":"\#(id)","status":"\#(status)","role":"assistant","content":\#(content)}"#
    }

    /// A Responses API `response` object: `status: "completed"` with one assistant message saying
    /// `text` and `usage`, or (`status` other than completed) no output and no usage yet.
    static func response(
        id: String = "resp_fake1",
        model: String = "upstream-model",
        text: String = "Hello from upstream",
        usage: ResponsesUsage = ResponsesUsage(),
        status: String = "completed"
    ) -> String {
        let completed = status == "completed"
        let output = completed ? "[\(responseMessageItem(text: text))]" : "[]"
        return #"""
            {"id":"\#(id)","object":"response","created_at":1741476542,"status":"\#(status)","error":null,\#
            "incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"\#(model)",\#
            "output":\#(output),"parallel_tool_calls":true,"previous_response_id":null,\#
            "reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,\#
            "text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled",\#
            "usage":\#(completed ? usage.json : "null"),"user":null,"metadata":{}}
            """#
    }

    /// The events of a streamed Responses answer made of `deltas`, in OpenAI's order, each a whole
    /// SSE frame (`event: <type>` and `data:` with its `sequence_number`): response.created,
    /// response.in_progress, response.output_item.added, response.content_part.added,
    /// response.output_text.delta for each delta, response.output_text.done,
    /// response.content_part.done, response.output_item.done and response.completed with `usage`.
    static func responsesEvents(
        _ deltas: [String],
        id: String = "resp_fake1",
        model: String = "upstream-model",
        usage: ResponsesUsage = ResponsesUsage()
    ) -> [String] {
        let text = deltas.joined()
        let item = #""item_id":"msg_fake1","output_index":0,"content_index":0"#
        let part = #"{"type":"output_text","annotations":[],"text":\#(quoted(text))}"#
        var payloads: [(String, String)] = [
            ("response.created", #""response":\#(response(id: id, model: model, status: "in_progress"))"#),
            ("response.in_progress", #""response":\#(response(id: id, model: model, status: "in_progress"))"#),
            ("response.output_item.added", #""output_index":0,"item":\#(responseMessageItem(text: "", status: "in_progress"))"#),
            ("response.content_part.added", #"\#(item),"part":{"type":"output_text","annotations":[],"text":""}"#),
        ]
        payloads += deltas.map { ("response.output_text.delta", #"\#(item),"delta":\#(quoted($0)),"logprobs":[]"#) }
        payloads += [
            ("response.output_text.done", #"\#(item),"text":\#(quoted(text)),"logprobs":[]"#),
            ("response.content_part.done", #"\#(item),"part":\#(part)"#),
            ("response.output_item.done", #""output_index":0,"item":\#(responseMessageItem(text: text))"#),
            ("response.completed", #""response":\#(response(id: id, model: model, text: text, usage: usage))"#),
        ]
        return payloads.enumerated().map { number, payload in
            "event: \(payload.0)\ndata: {\"type\":\"\(payload.0)\",\"sequence_number\":\(number),\(payload.1)}\n\n"
        }
    }

    /// A streamed Responses answer of `deltas` (see ``responsesEvents(_:id:model:usage:)``).
    static func responsesStream(_ deltas: [String], usage: ResponsesUsage = ResponsesUsage()) -> FakeBehaviour {
        .chunked(contentType: "text/event-stream", chunks: responsesEvents(deltas, usage: usage))
    }

    // MARK: Canned Anthropic wire data (AnthropicEndToEndTests' builders, as whole answers)

    /// A native Anthropic `message` saying `text`, with usage (12 in, 5 out).
    static func anthropicMessage(text: String = "Bonjour!") -> FakeBehaviour {
        .raw(
            status: .ok,
            contentType: "application/json",
            body: AnthropicEndToEndTests.message(content: #"[{"type":"text","text":\#(quoted(text))}]"#)
        )
    }

    /// Anthropic's native events for a text answer of `deltas`: message_start (input usage), one
    /// text block, message_delta (output usage) and message_stop.
    static func anthropicEvents(_ deltas: [String]) -> [String] {
        [AnthropicEndToEndTests.messageStart, AnthropicEndToEndTests.textStart]
            + deltas.map { AnthropicEndToEndTests.textDelta($0) }
            + [AnthropicEndToEndTests.textStop, AnthropicEndToEndTests.messageDelta, AnthropicEndToEndTests.messageStop]
    }

    /// A native Anthropic answer, streamed or whole as the request asks.
    static let anthropicAnswer = FakeBehaviour.byStreamFlag(
        streaming: FakeBehaviourBox(.chunked(contentType: "text/event-stream", chunks: anthropicEvents(["Bon", "jour!"]))),
        plain: FakeBehaviourBox(anthropicMessage())
    )
}

extension FakeBehaviour {
    /// This behaviour with `{ECHO}` replaced by `value` and `{ECHO_TOKEN}` by `token` in every body
    /// and event it sends.
    func echoing(_ value: String, token: String) -> FakeBehaviour {
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{ECHO}", with: value).replacingOccurrences(of: "{ECHO_TOKEN}", with: token)
        }
        func fill(_ box: FakeBehaviourBox) -> FakeBehaviourBox { FakeBehaviourBox(box.behaviour.echoing(value, token: token)) }
        switch self {
        case .respond(let status, let body):
            return .respond(status: status, body: fill(body))
        case .respondWithHeaders(let status, let headers, let body):
            return .respondWithHeaders(status: status, headers: headers, body: fill(body))
        case .stream(let events, let delay, let done):
            return .stream(events: events.map(fill), delay: delay, done: done)
        case .raw(let status, let contentType, let body):
            return .raw(status: status, contentType: contentType, body: fill(body))
        case .chunked(let contentType, let chunks, let delay, let hold):
            return .chunked(contentType: contentType, chunks: chunks.map(fill), delay: delay, hold: hold)
        case .byStreamFlag(let streaming, let plain):
            return .byStreamFlag(streaming: fill(streaming), plain: fill(plain))
        case .byPath(let routes, let otherwise):
            return .byPath(routes.map { ($0.prefix, fill($0.behaviour)) }, otherwise: fill(otherwise))
        case .delayed(let delay, let then):
            return .delayed(delay, then: fill(then))
        default:
            return self
        }
    }
}
