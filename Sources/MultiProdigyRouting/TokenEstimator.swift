import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

/// Estimates the prompt tokens of a chat request in a few microseconds, without a tokenizer.
///
/// The router needs a token count per request to price targets and to skip those whose context
/// window is too small, inside a planning budget of a few microseconds. A real BPE tokenizer needs a
/// 1.7–3.6 MB rank file and is too slow for that, so this is a character-class model fitted to
/// OpenAI's `cl100k_base` and `o200k_base` (see ``estimateTokens(inText:)`` and `bench/tokens/`).
///
/// Measured on the 53-sample corpus in `bench/tokens/corpus` (mean absolute error, bias): English
/// prose and chat 3–4 %, unbiased; code, JSON and Markdown 7 % (worst −15 %); other languages are
/// aimed between the two tokenizers, which themselves differ by up to 3.6× (Hindi), so they land
/// 10–57 % off either one. Whole English chat requests: about 3.5 % against OpenAI's cookbook recipe.
///
/// ```swift
/// let prompt = TokenEstimator.estimatePromptTokens(of: request)
/// ```
public enum TokenEstimator {
    /// Tokens every message adds around its content, as OpenAI's cookbook counts for
    /// `gpt-3.5-turbo` onwards (`<|start|>role<|message|>…<|end|>` minus the role itself). Exact
    /// for OpenAI chat models; the measured request error comes from the text, not from this.
    public static let messageOverheadTokenCount = 3

    /// Tokens the role adds: every standard role (`system`, `developer`, `user`, `assistant`,
    /// `tool`, `function`) is one token in both tokenizers.
    public static let roleTokenCount = 1

    /// Tokens a message's `name` adds on top of the name's own text, as the cookbook counts (exact
    /// there; the name's text carries the text estimate's error).
    public static let nameOverheadTokenCount = 1

    /// Tokens that prime the reply (`<|start|>assistant<|message|>`), once per request; exact for
    /// OpenAI chat models.
    public static let replyPrimingTokenCount = 3

    /// Tokens charged for an image part unless it asks for `"detail": "low"`.
    ///
    /// OpenAI charges 85 tokens plus 170 per 512-pixel tile for high detail; a typical photo sent
    /// with the default `auto` detail is scaled to 1024×768 and costs 765 (4 tiles). We charge that
    /// middle value because the bytes of a URL or data URI say nothing about the image's size, and
    /// an estimate that ignores images would let a vision request into a too-small context.
    /// Other providers differ (Gemini about 258 per image, Claude about 1 per 750 pixels). Not
    /// measured: off by −89 % (low-detail image) to several times (large high-detail image).
    public static let imageTokenCount = 765

    /// Tokens charged for an image part with `"detail": "low"`: OpenAI's fixed low-detail price,
    /// exact for OpenAI's GPT-4o family.
    public static let lowDetailImageTokenCount = 85

    /// Tokens charged for an `input_audio` part: a rough figure for about 20 seconds of speech
    /// (OpenAI bills audio input near 10 tokens a second). Not measured: the encoded audio's
    /// length is not looked at, so a long recording is underestimated.
    public static let audioTokenCount = 200

    /// Tokens each assistant `tool_calls` entry adds around its function name and arguments.
    ///
    /// Not verifiable offline (OpenAI does not document how calls are rendered); chosen as the
    /// separators a call needs around its name and arguments.
    public static let toolCallOverheadTokenCount = 3

    /// Tokens each function in `tools` adds around its name and description (the cookbook's
    /// `func_init` for `gpt-4o`). With it, tool lists measured 3–4 % off the cookbook's recipe.
    public static let toolOverheadTokenCount = 7

    /// Tokens the `tools` list adds once, when it is not empty (the cookbook's `func_end`); see
    /// ``toolOverheadTokenCount`` for the measured error.
    public static let toolListOverheadTokenCount = 12

    /// Estimates the tokens of one UTF-8 text.
    ///
    /// The text is split as the tokenizers' pre-tokenizer splits it (words with their leading
    /// space, digit groups of up to three, punctuation runs, whitespace runs) and each piece is
    /// charged its fitted average: an English word about 0.9 token plus 0.23 per letter beyond six,
    /// capitals and camelCase extra; accented Latin letters about 0.7 more; Cyrillic about 0.37 and
    /// other alphabets 0.5–0.65 per letter; Chinese, Japanese and Korean characters about 0.85–0.9
    /// each; emoji 2.
    ///
    /// Measured error on `bench/tokens/corpus` (53 samples, mean absolute / bias), against
    /// `cl100k_base` and `o200k_base`: English prose and chat 3.4–3.7 %, bias within ±1 %, worst
    /// −14 % (rare long words); code, JSON and Markdown 6.6 %, bias −1 %, worst −15 %; numbers,
    /// URLs, hashes and base64 about 6 %; French, German, Spanish about 10 % (under cl100k, over o200k); Chinese, Japanese, Korean about 20 % (−19 % vs
    /// cl100k, +23 % vs o200k); Russian, Greek, Arabic and Hindi −35 % vs cl100k and +57 % vs o200k,
    /// because those two tokenizers differ by 1.7–3.6× there and the estimate sits between them.
    ///
    /// - Parameter bytes: UTF-8 text, or the raw contents of a JSON string literal (the bytes
    ///   between the quotes): escapes such as `\n`, `\"` and `\u4f60` count as the characters they
    ///   stand for. A backslash that starts no valid escape counts as itself.
    /// - Returns: The estimated token count; 0 for empty text.
    public static func estimateTokens(inText bytes: UnsafeRawBufferPointer) -> Int {
        var tally = TokenTally()
        tally.add(bytes)
        return tally.tokens
    }

    /// Estimates the prompt tokens of a request body whose top-level members are already known.
    ///
    /// Counts what ``estimatePromptTokens(of:)`` documents, reading `messages` and `tools` in place.
    package static func estimatePromptTokens(ofRequestBody bytes: UnsafeRawBufferPointer, members: [JSONMember]) -> Int {
        var tally = TokenTally()
        var fixedTokens = replyPrimingTokenCount
        for member in members {
            switch member.key {
            case "messages" where member.kind == .array:
                forEachElement(ofArrayAt: member.value, in: bytes) { message, kind in
                    guard kind == .object else { return }
                    fixedTokens += addMessage(at: message, in: bytes, to: &tally)
                }
            case "tools" where member.kind == .array:
                fixedTokens += addTools(at: member.value, in: bytes, to: &tally)
            default:
                break
            }
        }
        return fixedTokens + tally.tokens
    }

    /// Adds a message's text to `tally` and returns its fixed costs.
    private static func addMessage(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, to tally: inout TokenTally) -> Int {
        var fixedTokens = messageOverheadTokenCount + roleTokenCount
        forEachMember(ofObjectAt: range, in: bytes) { key, value, kind in
            if matches(key, "content") {
                if kind == .string {
                    tally.add(stringContents(at: value, in: bytes))
                } else if kind == .array {
                    forEachElement(ofArrayAt: value, in: bytes) { part, partKind in
                        guard partKind == .object else { return }
                        fixedTokens += addContentPart(at: part, in: bytes, to: &tally)
                    }
                }
            } else if matches(key, "name"), kind == .string {
                tally.add(stringContents(at: value, in: bytes))
                fixedTokens += nameOverheadTokenCount
            } else if matches(key, "tool_calls"), kind == .array {
                forEachElement(ofArrayAt: value, in: bytes) { call, callKind in
                    guard callKind == .object else { return }
                    fixedTokens += toolCallOverheadTokenCount
                    forEachMember(ofObjectAt: call, in: bytes) { callKey, function, functionKind in
                        guard matches(callKey, "function"), functionKind == .object else { return }
                        forEachMember(ofObjectAt: function, in: bytes) { field, text, textKind in
                            guard textKind == .string, matches(field, "name") || matches(field, "arguments") else { return }
                            tally.add(stringContents(at: text, in: bytes))
                        }
                    }
                }
            }
        }
        return fixedTokens
    }

    /// Adds a content part's text to `tally` and returns its fixed costs. Parts of unknown types
    /// (files, future kinds) count nothing rather than a guess.
    private static func addContentPart(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, to tally: inout TokenTally) -> Int {
        var type: Range<Int>?
        var text: Range<Int>?
        var isLowDetail = false
        forEachMember(ofObjectAt: range, in: bytes) { key, value, kind in
            if matches(key, "type"), kind == .string {
                type = value
            } else if matches(key, "text"), kind == .string {
                text = value
            } else if matches(key, "detail"), kind == .string {
                // `input_image` parts carry `detail` themselves.
                isLowDetail = matches(stringContents(at: value, in: bytes), "low")
            } else if matches(key, "image_url"), kind == .object {
                forEachMember(ofObjectAt: value, in: bytes) { imageKey, detail, detailKind in
                    if matches(imageKey, "detail"), detailKind == .string {
                        isLowDetail = matches(stringContents(at: detail, in: bytes), "low")
                    }
                }
            }
        }
        guard let type else { return 0 }
        let typeName = stringContents(at: type, in: bytes)
        if matches(typeName, "text") || matches(typeName, "input_text") {
            if let text { tally.add(stringContents(at: text, in: bytes)) }
            return 0
        }
        if matches(typeName, "image_url") || matches(typeName, "input_image") {
            return isLowDetail ? lowDetailImageTokenCount : imageTokenCount
        }
        if matches(typeName, "input_audio") { return audioTokenCount }
        return 0
    }

    /// Adds the `tools` definitions to `tally` and returns their fixed costs.
    ///
    /// Follows the shape of the cookbook's recipe for `gpt-4o`: per function its name and
    /// description, per parameter its name, type, description and enum values, with the recipe's
    /// fixed costs. Nested schemas (`items`, `properties` of objects), which the recipe skips but
    /// the model does see, are counted at half the tokens of their JSON text.
    private static func addTools(at range: Range<Int>, in bytes: UnsafeRawBufferPointer, to tally: inout TokenTally) -> Int {
        var fixedTokens = 0
        var nestedSchemas = TokenTally()
        forEachElement(ofArrayAt: range, in: bytes) { tool, toolKind in
            guard toolKind == .object else { return }
            forEachMember(ofObjectAt: tool, in: bytes) { toolKey, function, functionKind in
                guard matches(toolKey, "function"), functionKind == .object else { return }
                fixedTokens += toolOverheadTokenCount
                forEachMember(ofObjectAt: function, in: bytes) { key, value, kind in
                    if kind == .string, matches(key, "name") || matches(key, "description") {
                        tally.add(stringContents(at: value, in: bytes))
                    } else if matches(key, "parameters"), kind == .object {
                        fixedTokens += addParameters(at: value, in: bytes, to: &tally, nestedSchemas: &nestedSchemas)
                    }
                }
            }
        }
        guard fixedTokens > 0 else { return 0 }
        return fixedTokens + toolListOverheadTokenCount + nestedSchemas.tokens / 2
    }

    private static func addParameters(
        at range: Range<Int>,
        in bytes: UnsafeRawBufferPointer,
        to tally: inout TokenTally,
        nestedSchemas: inout TokenTally
    ) -> Int {
        var fixedTokens = 0
        var propertyCount = 0
        forEachMember(ofObjectAt: range, in: bytes) { key, properties, kind in
            guard matches(key, "properties"), kind == .object else { return }
            forEachMember(ofObjectAt: properties, in: bytes) { name, schema, schemaKind in
                // The recipe's `prop_key`, then the line `name:type:description`.
                propertyCount += 1
                fixedTokens += 3
                tally.add(name)
                guard schemaKind == .object else { return }
                forEachMember(ofObjectAt: schema, in: bytes) { field, value, valueKind in
                    if valueKind == .string, matches(field, "type") || matches(field, "description") {
                        tally.add(stringContents(at: value, in: bytes))
                    } else if matches(field, "enum"), valueKind == .array {
                        fixedTokens -= 3
                        forEachElement(ofArrayAt: value, in: bytes) { item, itemKind in
                            fixedTokens += 3
                            let itemBytes = UnsafeRawBufferPointer(rebasing: bytes[item])
                            tally.add(itemKind == .string ? stringContents(at: item, in: bytes) : itemBytes)
                        }
                    } else if valueKind == .object || valueKind == .array {
                        nestedSchemas.add(UnsafeRawBufferPointer(rebasing: bytes[value]))
                    }
                }
            }
        }
        // The recipe's `prop_init`, once per function that has parameters.
        return propertyCount > 0 ? fixedTokens + 3 : fixedTokens
    }

    // MARK: - Reading validated JSON in place

    /// The bytes between the quotes of the string at `range`.
    private static func stringContents(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
    }

    /// Whether raw key or string bytes equal `literal` (escaped spellings do not match).
    private static func matches(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.elementsEqual(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Calls `body` with each member of the object at `range`: the key's raw bytes, the value's
    /// range and kind.
    ///
    /// Unlike ``JSONScanner/members(ofObjectAt:in:)`` this neither allocates nor validates again:
    /// the request was validated when it was parsed, and validating every string byte a second time
    /// cost more than estimating its tokens. It stays bounds-safe on any input.
    private static func forEachMember(
        ofObjectAt range: Range<Int>,
        in bytes: UnsafeRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: Range<Int>, _ kind: JSONValueKind) -> Void
    ) {
        let end = min(range.upperBound, bytes.count)
        var position = range.lowerBound
        guard position < end, bytes[position] == UInt8(ascii: "{") else { return }
        position += 1
        while true {
            position = skipWhitespace(in: bytes, from: position, to: end)
            guard position < end, bytes[position] == UInt8(ascii: "\"") else { return }
            let keyStart = position + 1
            position = skipString(in: bytes, from: position, to: end)
            let key = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<max(keyStart, position - 1)])
            position = skipWhitespace(in: bytes, from: position, to: end)
            guard position < end, bytes[position] == UInt8(ascii: ":") else { return }
            position = skipWhitespace(in: bytes, from: position + 1, to: end)
            guard position < end else { return }
            let valueStart = position
            let kind = kindOfValue(startingWith: bytes[position])
            position = skipValue(in: bytes, from: position, to: end)
            body(key, valueStart..<position, kind)
            position = skipWhitespace(in: bytes, from: position, to: end)
            guard position < end, bytes[position] == UInt8(ascii: ",") else { return }
            position += 1
        }
    }

    /// Calls `body` with the range and kind of each element of the array at `range`, allocating
    /// nothing and trusting the earlier validation, as ``forEachMember(ofObjectAt:in:_:)`` does.
    private static func forEachElement(
        ofArrayAt range: Range<Int>,
        in bytes: UnsafeRawBufferPointer,
        _ body: (_ element: Range<Int>, _ kind: JSONValueKind) -> Void
    ) {
        let end = min(range.upperBound, bytes.count)
        var position = range.lowerBound
        guard position < end, bytes[position] == UInt8(ascii: "[") else { return }
        position += 1
        while true {
            position = skipWhitespace(in: bytes, from: position, to: end)
            guard position < end, bytes[position] != UInt8(ascii: "]") else { return }
            let start = position
            let kind = kindOfValue(startingWith: bytes[position])
            position = skipValue(in: bytes, from: position, to: end)
            body(start..<position, kind)
            position = skipWhitespace(in: bytes, from: position, to: end)
            guard position < end, bytes[position] == UInt8(ascii: ",") else { return }
            position += 1
        }
    }

    private static func kindOfValue(startingWith byte: UInt8) -> JSONValueKind {
        switch byte {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    private static func skipWhitespace(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var position = start
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return position
            }
        }
        return position
    }

    /// The position just past the value starting at `start`.
    private static func skipValue(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var position = start
        switch bytes[position] {
        case UInt8(ascii: "\""):
            return skipString(in: bytes, from: position, to: end)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while position < end {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    position = skipString(in: bytes, from: position, to: end)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return position + 1 }
                default:
                    break
                }
                position += 1
            }
            return position
        default:
            while position < end {
                switch bytes[position] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return position
                default: position += 1
                }
            }
            return position
        }
    }

    /// The position just past the string whose opening quote is at `start`.
    ///
    /// Message text is most of a request, so this looks at eight bytes at a time for a quote or a
    /// backslash before falling back to single bytes.
    private static func skipString(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var position = start + 1
        while position < end {
            if position + 8 <= end {
                let word = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
                let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
                let found = ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes) & highBits
                if found == 0 {
                    position += 8
                    continue
                }
            }
            switch bytes[position] {
            case UInt8(ascii: "\""): return position + 1
            case UInt8(ascii: "\\"): position += 2
            default: position += 1
            }
        }
        return min(position, end)
    }
}
