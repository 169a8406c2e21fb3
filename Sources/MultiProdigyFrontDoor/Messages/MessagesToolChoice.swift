import MultiProdigyJSON

/// A Messages request's `tool_choice`, validated.
enum MessagesToolChoice: Sendable, Equatable {
    /// `{"type":"auto"}`: the model decides.
    case auto
    /// `{"type":"any"}`: the model must call some tool.
    case any
    /// `{"type":"tool","name":…}`: the model must call this tool.
    case tool(name: String)
    /// `{"type":"none"}`: the model must not call a tool.
    case none

    /// The chat `tool_choice`: `auto`, `required`, `none` or a named function.
    var chatValue: JSONValue {
        switch self {
        case .auto: "auto"
        case .any: "required"
        case .none: "none"
        case .tool(let name): ["type": "function", "function": ["name": .string(name)]]
        }
    }
}
