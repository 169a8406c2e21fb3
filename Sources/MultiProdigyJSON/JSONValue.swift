import NIOCore

/// A JSON document as a Swift value, for the adapters that translate between wire formats.
///
/// The OpenAI pass-through path never builds one: it copies byte ranges. Adapters for other
/// protocols (Gemini, Anthropic, Ollama) must restructure bodies, and do it on this type. Objects keep
/// their members' order and numbers keep their exact text, so nothing is rounded on the way through.
///
/// ```swift
/// let body = try JSONValue.parse(buffer)
/// let temperature = body["temperature"]?.doubleValue
/// let out: JSONValue = ["role": "user", "parts": [["text": "Hi"]]]
/// ```
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its JSON text (`42`, `-0.5`, `1e-7`), so no digit is lost.
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in document order.
    case object(JSONObject)

    /// Parses one JSON value from `buffer`'s readable bytes.
    ///
    /// - Throws: ``JSONSyntaxError`` when the bytes are not exactly one valid JSON value.
    public static func parse(_ buffer: ByteBuffer) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONSyntaxError) -> JSONValue in
                let root = try JSONScanner.rootValue(of: bytes)
                return try JSONValue(range: root.range, kind: root.kind, in: bytes)
            }
        }
        return try result.get()
    }

    /// Parses one JSON value from `text`.
    ///
    /// - Throws: ``JSONSyntaxError`` when the text is not exactly one valid JSON value.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(ByteBuffer(string: text))
    }

    /// Builds the value stored at `range` of a validated document.
    package init(range: Range<Int>, kind: JSONValueKind, in bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) {
        switch kind {
        case .null:
            self = .null
        case .bool:
            self = .bool(bytes[range.lowerBound] == UInt8(ascii: "t"))
        case .number:
            self = .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        case .string:
            self = .string(JSONScanner.decodeString(at: range, in: bytes))
        case .array:
            var values: [JSONValue] = []
            for element in try JSONScanner.elements(ofArrayAt: range, in: bytes) {
                values.append(try JSONValue(range: element.range, kind: element.kind, in: bytes))
            }
            self = .array(values)
        case .object:
            var members: [JSONObject.Member] = []
            for member in try JSONScanner.members(ofObjectAt: range, in: bytes) {
                members.append(JSONObject.Member(key: member.key, value: try JSONValue(range: member.value, kind: member.kind, in: bytes)))
            }
            self = .object(JSONObject(uniquing: members))
        }
    }

    // MARK: Reading

    /// The member `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let object) = self else { return nil }
            return object[key]
        }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, when this is a number.
    public var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    /// The number as an `Int`, when this is an integral number that fits.
    public var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let value = Int(text) { return value }
        guard let value = Double(text), value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The elements as `Float`s, when this is an array of numbers only (an embedding vector).
    public var floatArrayValue: [Float]? {
        guard case .array(let values) = self else { return nil }
        var floats: [Float] = []
        floats.reserveCapacity(values.count)
        for value in values {
            guard let number = value.doubleValue else { return nil }
            floats.append(Float(number))
        }
        return floats
    }

    /// The members, when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    /// The JSON type of this value.
    public var kind: JSONValueKind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    // MARK: Writing

    /// A number value from an integer.
    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }

    /// A number value from a floating-point value (non-finite values become `null`).
    public static func double(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        if value.rounded() == value, abs(value) < 1e15 { return .number(String(Int(value))) }
        return .number(String(value))
    }

    /// Appends the compact JSON text of this value to `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .null: buffer.writeStaticString("null")
        case .bool(true): buffer.writeStaticString("true")
        case .bool(false): buffer.writeStaticString("false")
        case .number(let text): buffer.writeString(text)
        case .string(let value): JSONWriter.writeString(value, into: &buffer)
        case .array(let values):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                value.write(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            object.write(into: &buffer)
        }
    }

    /// The compact JSON text of this value.
    public var buffer: ByteBuffer {
        var buffer = ByteBuffer()
        write(into: &buffer)
        return buffer
    }

    /// The compact JSON text of this value, as a `String`.
    public var text: String { String(buffer: buffer) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// A number value.
    public init(integerLiteral value: Int) { self = .number(String(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A number value.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array value.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object value, members in the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}
