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

/// One `"key": value` pair of a scanned object, located by byte offsets.
public struct JSONMember: Sendable, Equatable {
    /// The decoded key.
    public var key: String
    /// Offset of the key's opening quote; the member spans `keyStart..<value.upperBound`.
    public var keyStart: Int
    /// Byte range of the value.
    public var value: Range<Int>
    /// The value's JSON type.
    public var kind: JSONValueKind
}

/// One element of a scanned array, located by byte offsets.
public struct JSONElement: Sendable, Equatable {
    /// Byte range of the element.
    public var range: Range<Int>
    /// The element's JSON type.
    public var kind: JSONValueKind
}

/// Why a byte sequence is not valid JSON.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    /// Offset of the first byte that could not be accepted.
    public var offset: Int
    /// What was wrong, in words a client can act on.
    public var reason: String
}
