/// The JSON type of a scanned value.
public enum JSONValueKind: Sendable, Equatable {
    /// `{...}`
    case object
    /// `[...]`
    case array
    /// `"..."`
    case string
    /// A JSON number, integral or not.
    case number
    /// `true` or `false`.
    case bool
    /// `null`.
    case null

    /// The name used in error messages, as OpenAI words them.
    public var description: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
