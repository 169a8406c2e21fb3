import MultiProdigyCore
import MultiProdigyJSON

/// One member of a Responses request body, read with the path OpenAI names in its 400 errors
/// (`input[2].content[0].image_url`), so every check words its error the same way.
struct ResponsesField {
    /// Where the value sits, as OpenAI writes a `param`.
    let path: String
    /// The value; nil when the member is absent.
    let value: JSONValue?

    /// The member `key` of `object`, with its path under `path` (none at the top level).
    init(_ key: String, of object: JSONValue?, under path: String? = nil) {
        self.path = path.map { "\($0).\(key)" } ?? key
        self.value = object?[key]
    }

    /// A value at an explicit `path`.
    init(path: String, value: JSONValue?) {
        self.path = path
        self.value = value
    }

    /// Element `index` of an array at `path`.
    init(element index: Int, of array: [JSONValue], under path: String) {
        self.path = "\(path)[\(index)]"
        self.value = array[index]
    }

    /// The value unless it is absent or `null`: OpenAI treats an explicit `null` as not given.
    var given: JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    /// The string, or nil when absent.
    ///
    /// - Throws: `invalid_type` when present and not a string.
    func string() throws(GatewayError) -> String? {
        guard let given else { return nil }
        guard let string = given.stringValue else { throw invalidType(expected: "a string") }
        return string
    }

    /// The string, which must be present.
    ///
    /// - Throws: `missing_required_parameter` or `invalid_type`.
    func requiredString() throws(GatewayError) -> String {
        guard let string = try string() else { throw missing() }
        return string
    }

    /// The boolean, or nil when absent.
    func bool() throws(GatewayError) -> Bool? {
        guard let given else { return nil }
        guard let bool = given.boolValue else { throw invalidType(expected: "a boolean") }
        return bool
    }

    /// The number (its exact JSON text kept), or nil when absent.
    func number() throws(GatewayError) -> JSONValue? {
        guard let given else { return nil }
        guard given.kind == .number else { throw invalidType(expected: "a number") }
        return given
    }

    /// The integer, at least `minimum`, or nil when absent.
    func integer(minimum: Int) throws(GatewayError) -> Int? {
        guard let given else { return nil }
        guard given.kind == .number, let integer = given.intValue else { throw invalidType(expected: "an integer") }
        guard integer >= minimum else {
            throw .invalidRequest(
                "Invalid '\(path)': integer below minimum value. Expected a value >= \(minimum), but got \(integer) instead.",
                param: path,
                code: "integer_below_min_value"
            )
        }
        return integer
    }

    /// The object, or nil when absent.
    func object() throws(GatewayError) -> JSONValue? {
        guard let given else { return nil }
        guard given.kind == .object else { throw invalidType(expected: "an object") }
        return given
    }

    /// The elements of the array, or nil when absent.
    func array() throws(GatewayError) -> [JSONValue]? {
        guard let given else { return nil }
        guard let array = given.arrayValue else { throw invalidType(expected: "an array") }
        return array
    }

    /// The string, which must be one of `supported`.
    ///
    /// - Throws: `missing_required_parameter`, `invalid_type` or `invalid_value`.
    func requiredString(oneOf supported: [String]) throws(GatewayError) -> String {
        let string = try requiredString()
        guard supported.contains(string) else { throw invalidValue(string, supported: supported) }
        return string
    }

    /// `missing_required_parameter` for this member.
    func missing() -> GatewayError {
        .invalidRequest("Missing required parameter: '\(path)'.", param: path, code: "missing_required_parameter")
    }

    /// `invalid_type` for this member, which holds something other than `expected`.
    func invalidType(expected: String) -> GatewayError {
        let got = value?.kind.description ?? "nothing"
        return .invalidRequest(
            "Invalid type for '\(path)': expected \(expected), but got \(got) instead.",
            param: path,
            code: "invalid_type"
        )
    }

    /// `invalid_value` for this member, which holds `value` instead of one of `supported`.
    func invalidValue(_ value: String, supported: [String]) -> GatewayError {
        let names = supported.map { "'\($0)'" }
        let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + ", and " + names.last! : names.joined()
        return .invalidRequest(
            "Invalid value: '\(EchoedName.shortened(value))'. Supported values are: \(list).",
            param: path,
            code: "invalid_value"
        )
    }

    /// `unsupported_value` for this member: valid for OpenAI, but not something the gateway can
    /// translate for a chat target.
    func unsupported(_ what: String) -> GatewayError {
        .invalidRequest(
            "\(what) is not supported by this gateway's Responses API (\(path)).",
            param: path,
            code: "unsupported_value"
        )
    }
}
