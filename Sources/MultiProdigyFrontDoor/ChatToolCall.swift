/// A tool call in a chat answer: the call's id, the function's name, and its arguments as the
/// model wrote them (a JSON text, not necessarily valid).
public struct ChatToolCall: Sendable, Equatable {
    /// The call's id, which the tool's result refers to.
    public var id: String
    /// The function's name.
    public var name: String
    /// The arguments' JSON text.
    public var arguments: String

    /// Creates a tool call.
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
