import Logging
import NIOCore

/// A backend the gateway can send chat completions (and, if it supports them, embeddings) to.
///
/// An adapter translates the client's OpenAI-shaped request into its upstream's wire format and the
/// answer back into OpenAI's shape. Register your own with ``ProviderRegistry/register(_:defaultBaseURL:factory:)``.
///
/// ```swift
/// struct EchoProvider: LLMProvider {
///     func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult { ... }
///     func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream { ... }
/// }
/// ```
///
/// ``embed(_:)``, ``discoverModels(deadline:logger:)`` and ``probe(deadline:logger:)`` have default
/// implementations: no embeddings, no discovered models, no active health check.
public protocol LLMProvider: Sendable {
    /// Answers a non-streaming chat completion.
    ///
    /// - Returns: The answer as an OpenAI `chat.completion` JSON object.
    /// - Throws: ``ProviderError`` (other errors are classified as connection errors).
    func complete(_ call: ChatCompletionCall) async throws -> ChatCompletionResult

    /// Starts a streaming chat completion and returns once the upstream has accepted it.
    ///
    /// The returned events are OpenAI `chat.completion.chunk` objects; the sequence ends with
    /// ``ChatStreamEvent/done`` when the upstream said the answer is complete. A sequence that ends
    /// without it was cut short. End it with a usage chunk (`"choices": []` and `usage`) whether
    /// or not the request asks for one (`includeUsage`): the gateway prices the answer with it,
    /// removes it for a client that did not ask, and assembles a non-streaming request's answer
    /// from this stream (`non_streaming: assembled`), `usage` included.
    ///
    /// - Throws: ``ProviderError`` when the upstream refuses the call or cannot be reached.
    func stream(_ call: ChatCompletionCall) async throws -> ChatCompletionStream

    /// Embeds the call's inputs.
    ///
    /// - Throws: ``ProviderError``; by default one of kind `client` saying embeddings are unsupported.
    func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult

    /// The model names the upstream offers, for `GET /v1/models`; by default none.
    ///
    /// - Throws: ``ProviderError`` when the upstream cannot be asked.
    func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String]

    /// Checks cheaply whether the upstream is up, for the gateway's active health checks of local
    /// providers (`resilience.health_check.interval`); nil when the adapter has no such check.
    func probe(deadline: NIODeadline, logger: Logger) async -> ProviderProbe?

    /// The APIs besides chat the upstream speaks itself, which the gateway then passes requests in
    /// through (``completeNative(_:)``, ``streamNative(_:)``) rather than translating them through
    /// chat; by default none.
    var nativeAPIs: Set<NativeAPI> { get }

    /// Passes a request in one of ``nativeAPIs`` through, and returns the upstream's JSON answer
    /// unchanged.
    ///
    /// - Throws: ``ProviderError``, as ``complete(_:)``.
    func completeNative(_ call: NativeCall) async throws -> ByteBuffer

    /// Passes a streaming request in one of ``nativeAPIs`` through, and returns the upstream's
    /// events once its head has arrived.
    ///
    /// - Throws: ``ProviderError``, as ``stream(_:)``.
    func streamNative(_ call: NativeCall) async throws -> NativeEventStream
}

extension LLMProvider {
    /// Embeddings are not supported unless the adapter says otherwise.
    public func embed(_ call: EmbeddingsCall) async throws -> EmbeddingsResult {
        throw ProviderError.embeddingsUnsupported
    }

    /// No models are discovered unless the adapter says otherwise.
    public func discoverModels(deadline: NIODeadline, logger: Logger) async throws -> [String] { [] }

    /// No active health check unless the adapter says otherwise.
    public func probe(deadline: NIODeadline, logger: Logger) async -> ProviderProbe? { nil }

    /// No API besides chat unless the adapter says otherwise.
    public var nativeAPIs: Set<NativeAPI> { [] }

    /// Refuses: the adapter speaks no API natively.
    public func completeNative(_ call: NativeCall) async throws -> ByteBuffer {
        throw ProviderError.nativeAPIUnsupported(call.request.api)
    }

    /// Refuses: the adapter speaks no API natively.
    public func streamNative(_ call: NativeCall) async throws -> NativeEventStream {
        throw ProviderError.nativeAPIUnsupported(call.request.api)
    }
}
