import HTTPTypes
import MultiProdigyCore
import MultiProdigyFrontDoor
import MultiProdigyRouting

/// A `POST /v1/responses` body, validated, with the Chat Completions request (the stored
/// conversation it continues included) that plans it and serves it on targets that do not speak the
/// Responses API themselves.
struct ResponsesChatRequest: ChatPathRequest {
    /// The client's Responses request.
    let responses: ResponsesRequest
    /// Its translation, with the client's `multiprodigy` field carried over; a built-in tool is
    /// left out of it (only a target that speaks the Responses API can run one).
    let chat: ChatCompletionRequest
    /// What a target that speaks the Responses API gets (the conversation included), in which
    /// privacy routing looks for personal data.
    let native: NativeRequest
    /// The items of the continued conversation that chat cannot hold (``ResponsesInput/nativeOnlyItems(in:)``).
    var nativeOnlyHistory: [String] = []

    var model: String { chat.model }

    /// Whether only a target that speaks the Responses API can serve it: it uses a tool that only
    /// the provider runs (web search, file search, ...), or input chat cannot hold.
    var requiresNativeTarget: Bool {
        !responses.builtInTools.isEmpty || !responses.nativeOnlyInputs.isEmpty || !nativeOnlyHistory.isEmpty
    }

    func plan(with planning: RequestPlanning, headers: HTTPFields, caller: RequestCaller) throws(GatewayError) -> RoutePlan {
        let plan = try planning.plan(chat, nativeBody: native.body, headers: headers, caller: caller)
        if let tool = responses.builtInTools.first {
            return try planning.restricting(plan, to: .responses, refusal: Self.builtInToolRefusal(tool, model: responses.model))
        }
        if let input = responses.nativeOnlyInputs.first ?? nativeOnlyHistory.first {
            return try planning.restricting(plan, to: .responses, refusal: Self.nativeOnlyInputRefusal(input, model: responses.model))
        }
        return plan
    }

    /// The 400 of a request with input chat cannot hold whose model has no target that speaks the
    /// Responses API.
    static func nativeOnlyInputRefusal(_ input: String, model: String) -> GatewayError {
        GatewayError.invalidRequest(
            "\(input) can only be read by a provider that serves the Responses API itself, and no target of "
                + "'\(EchoedName.shortened(model))' does (a provider of type openai with options.responses_api: native). "
                + "Send it as text or an image URL, or use a model served by such a provider.",
            param: "input",
            code: "unsupported_value"
        )
    }

    /// The 400 of a request with a built-in tool whose model has no target that speaks the
    /// Responses API.
    static func builtInToolRefusal(_ tool: String, model: String) -> GatewayError {
        GatewayError.invalidRequest(
            "The tool type '\(EchoedName.shortened(tool))' runs only at the provider, and no target of '\(EchoedName.shortened(model))' "
                + "serves the Responses API itself (a provider of type openai with options.responses_api: native). "
                + "Use function tools, or a model served by such a provider.",
            param: "tools",
            code: "unsupported_tool"
        )
    }
}
