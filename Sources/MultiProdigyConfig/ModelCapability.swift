/// A capability a model has, as declared under `supports:`.
///
/// `tools`, `vision` and `json` are what a request may need: the planner leaves out targets that
/// declare capabilities but lack one the request uses. `continuation` is never needed by a request;
/// it tells the gateway the target can resume an answer another target left unfinished.
public enum ModelCapability: String, Sendable, Equatable, CaseIterable {
    /// Function calling (`tools`).
    case tools
    /// Image input.
    case vision
    /// JSON mode and `json_schema` output.
    case json
    /// Continues a trailing assistant message (prefill) instead of starting a new turn, so a
    /// stream cut mid-answer can be finished by this target. `type: anthropic` targets have it
    /// without declaring it.
    case continuation

    /// Whether a request can use it. Only these take part in the planner's capability filter, so
    /// declaring `continuation` alone does not make a model refuse tools, images or JSON.
    public var isRequestable: Bool { self != .continuation }
}
