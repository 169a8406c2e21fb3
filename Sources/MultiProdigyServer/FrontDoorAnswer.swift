import MultiProdigyAccounting
import MultiProdigyCore
import MultiProdigyResilience

/// A non-streamed answer of a front-door API other than chat, priced: the upstream's own body in
/// the client's API (native), or a chat completion still to be rendered in it (translated).
struct FrontDoorAnswer: TokenCountedAnswer {
    /// The priced body: the client's API's shape when ``isNative``, else a chat completion.
    let priced: CostAnnotation.PricedCompletion
    /// Whether the target spoke the client's API itself.
    let isNative: Bool

    var usage: TokenUsage { priced.usage }
}
