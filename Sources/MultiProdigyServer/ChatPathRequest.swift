import MultiProdigyCore

/// A request served through the chat path: a Chat Completions request, or another front-door
/// API's request translated into one.
protocol ChatPathRequest: PlannableRequest {
    /// The Chat Completions request the executor serves.
    var chat: ChatCompletionRequest { get }
}

extension ChatCompletionRequest: ChatPathRequest {
    var chat: ChatCompletionRequest { self }
}
