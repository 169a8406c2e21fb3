import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Converts a JSON Schema (as OpenAI clients write tool `parameters` and `response_format` schemas)
/// into the OpenAPI-subset `Schema` Gemini accepts for `parameters` and `responseSchema`.
///
/// Gemini answers 400 to keywords outside its subset (`$schema`, `additionalProperties`, `strict`,
/// `$ref`, …), so the conversion keeps only what Gemini documents, resolves local `$ref`s against
/// `$defs`/`definitions`, turns `type: ["string", "null"]` and `anyOf: [X, {"type": "null"}]` into
/// `X` with `nullable: true`, and upper-cases type names.
enum GeminiSchema {
    /// The keywords Gemini's `Schema` accepts whose values are copied as they are.
    private static let plainKeywords: Set<String> = [
        "title", "description", "nullable", "required", "propertyOrdering", "minItems", "maxItems", "minLength",
        "maxLength", "minimum", "maximum", "minProperties", "maxProperties", "pattern", "example", "default",
    ]

    /// The `format` values Gemini accepts, by type.
    private static let formats: [String: Set<String>] = [
        "STRING": ["enum", "date-time"],
        "INTEGER": ["int32", "int64"],
        "NUMBER": ["float", "double"],
    ]

    /// How deep `$ref`s are followed before a recursive schema is cut to a plain object.
    private static let maximumReferenceDepth = 8

    /// How many schema nodes `$ref` expansion may add in all. Past it, further `$ref`s become plain
    /// objects, so a small schema whose references fan out cannot expand into millions of nodes.
    private static let maximumExpandedNodes = 10_000

    /// The Gemini form of `schema`.
    static func convert(_ schema: JSONValue) -> JSONValue {
        let definitions = (schema["$defs"]?.objectValue ?? JSONObject()).merging(schema["definitions"]?.objectValue)
        var budget = maximumExpandedNodes
        return convert(schema, definitions: definitions, depth: 0, budget: &budget)
    }

    private static func convert(_ schema: JSONValue, definitions: JSONObject, depth: Int, budget: inout Int) -> JSONValue {
        guard case .object(var source) = schema else { return schema }
        if depth > 0 { budget -= 1 }
        if let reference = source["$ref"]?.stringValue {
            guard depth < maximumReferenceDepth, budget > 0, let target = resolve(reference, in: definitions) else {
                return ["type": "OBJECT"]
            }
            // Sibling keywords (a description next to `$ref`) win over the definition's.
            var merged = target.objectValue ?? JSONObject()
            for member in source.members where member.key != "$ref" { merged[member.key] = member.value }
            return convert(.object(merged), definitions: definitions, depth: depth + 1, budget: &budget)
        }
        var nullable = source["nullable"]?.boolValue ?? false
        if case .array(let types) = source["type"] {
            let named = types.compactMap(\.stringValue)
            if named.contains("null") { nullable = true }
            source["type"] = named.first { $0 != "null" }.map { .string($0) }
        }
        for keyword in ["anyOf", "oneOf"] {
            guard case .array(let options) = source[keyword] else { continue }
            source[keyword] = nil
            let nonNull = options.filter { $0["type"]?.stringValue != "null" }
            if nonNull.count < options.count { nullable = true }
            if nonNull.count == 1, case .object(let only) = nonNull[0] {
                for member in only.members where source[member.key] == nil { source[member.key] = member.value }
                return convert(.object(source.settingNullable(nullable)), definitions: definitions, depth: depth, budget: &budget)
            }
            if !nonNull.isEmpty { source["anyOf"] = .array(nonNull) }
        }
        if case .array(let parts) = source["allOf"], parts.count == 1, case .object(let only) = parts[0] {
            source["allOf"] = nil
            for member in only.members where source[member.key] == nil { source[member.key] = member.value }
        }
        if let constant = source["const"], source["enum"] == nil { source["enum"] = [constant] }

        var result = JSONObject()
        let type = source["type"]?.stringValue?.uppercased()
        if let type { result["type"] = .string(type) }
        if let format = source["format"]?.stringValue, let type, formats[type]?.contains(format) == true {
            result["format"] = .string(format)
        }
        for member in source.members where plainKeywords.contains(member.key) {
            result[member.key] = member.value
        }
        if nullable { result["nullable"] = true }
        if case .array(let values) = source["enum"], !values.isEmpty, values.allSatisfy({ $0.stringValue != nil }) {
            result["enum"] = .array(values)
        }
        if case .object(let properties) = source["properties"] {
            var converted = JSONObject()
            for member in properties.members {
                converted[member.key] = convert(member.value, definitions: definitions, depth: depth, budget: &budget)
            }
            result["properties"] = .object(converted)
        }
        if let items = source["items"], items.objectValue != nil {
            result["items"] = convert(items, definitions: definitions, depth: depth, budget: &budget)
        }
        if case .array(let options) = source["anyOf"] {
            result["anyOf"] = .array(options.map { convert($0, definitions: definitions, depth: depth, budget: &budget) })
        }
        return .object(result)
    }

    /// The definition `reference` (`#/$defs/Name` or `#/definitions/Name`) points at.
    private static func resolve(_ reference: String, in definitions: JSONObject) -> JSONValue? {
        for prefix in ["#/$defs/", "#/definitions/"] where reference.hasPrefix(prefix) {
            return definitions[String(reference.dropFirst(prefix.count))]
        }
        return nil
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject?) -> JSONObject {
        guard let other else { return self }
        var merged = self
        for member in other.members where merged[member.key] == nil { merged[member.key] = member.value }
        return merged
    }

    fileprivate func settingNullable(_ nullable: Bool) -> JSONObject {
        var copy = self
        if nullable { copy["nullable"] = true }
        return copy
    }
}
