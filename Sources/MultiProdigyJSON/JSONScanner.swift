/// A validating, allocation-light JSON scanner over raw bytes.
///
/// It checks JSON's grammar, not the encoding of string contents: bytes of 0x80 and above pass as they
/// came, so a body goes on to its upstream byte for byte and the upstream judges its UTF-8 (a client's
/// invalid UTF-8 gets the upstream's own 400, and a local server's stray byte does not cost a stream
/// its chunk). Strings decoded for the gateway's own reading replace invalid sequences with U+FFFD.
///
/// The gateway forwards request and response bodies losslessly: it never decodes a whole body into
/// Swift values and re-encodes it. Instead it validates the bytes once and records where each
/// top-level member sits, so that a member can be read, replaced or dropped by copying byte ranges.
///
/// ```swift
/// let members = try JSONScanner.topLevelMembers(of: bytes)
/// let model = members.first { $0.key == "model" }
/// ```
public enum JSONScanner {
    /// The deepest nesting the scanner accepts, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 128

    /// The capacity a collected object or array starts with: enough for a chat request's or
    /// answer's top level, so building the list costs one allocation rather than one per doubling.
    static let expectedMemberCount = 8

    /// Validates `bytes` as one JSON object and returns its top-level members in order.
    ///
    /// - Parameter bytes: The complete document.
    /// - Returns: The members of the root object.
    /// - Throws: ``JSONSyntaxError`` when the bytes are not a single valid JSON object.
    public static func topLevelMembers(of bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> [JSONMember] {
        var cursor = Cursor(bytes: bytes, position: 0)
        cursor.skipWhitespace()
        guard cursor.peek() == UInt8(ascii: "{") else {
            throw JSONSyntaxError(offset: cursor.position, reason: "expected a JSON object")
        }
        // The root object is depth 1, as for ``rootValue(of:)``: the two accept the same nesting.
        let members = try cursor.scanObjectMembers(depth: 1)
        cursor.skipWhitespace()
        guard cursor.isAtEnd else {
            throw JSONSyntaxError(offset: cursor.position, reason: "unexpected data after the JSON object")
        }
        return members
    }

    /// Validates `bytes` as one JSON value of any type and returns where it sits.
    ///
    /// - Throws: ``JSONSyntaxError`` when the bytes are not a single valid JSON value.
    public static func rootValue(of bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONElement {
        var cursor = Cursor(bytes: bytes, position: 0)
        cursor.skipWhitespace()
        let start = cursor.position
        let kind = try cursor.scanValue(depth: 0)
        let end = cursor.position
        cursor.skipWhitespace()
        guard cursor.isAtEnd else {
            throw JSONSyntaxError(offset: cursor.position, reason: "unexpected data after the JSON value")
        }
        return JSONElement(range: start..<end, kind: kind)
    }

    /// Returns the members of the object stored at `range`.
    ///
    /// - Parameters:
    ///   - range: The byte range of a value whose ``JSONValueKind`` is `.object`.
    ///   - bytes: The document the range belongs to.
    public static func members(ofObjectAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> [JSONMember] {
        var cursor = Cursor(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<range.upperBound]), position: range.lowerBound)
        return try cursor.scanObjectMembers(depth: 0)
    }

    /// Returns the elements of the array stored at `range`.
    ///
    /// - Parameters:
    ///   - range: The byte range of a value whose ``JSONValueKind`` is `.array`.
    ///   - bytes: The document the range belongs to.
    public static func elements(ofArrayAt range: Range<Int>, in bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> [JSONElement] {
        var cursor = Cursor(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<range.upperBound]), position: range.lowerBound)
        return try cursor.scanArrayElements(depth: 0)
    }

    /// Decodes the JSON string stored at `range` (quotes included) into a Swift `String`.
    public static func decodeString(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String {
        let inner = UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else {
            return String(decoding: inner, as: UTF8.self)
        }
        return unescape(inner)
    }

    /// The number at `range` as an `Int`, when it is a whole number that fits.
    public static func integer(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Int? {
        guard isInteger(at: range, in: bytes) else { return nil }
        return Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
    }

    /// Returns true when the number at `range` has no fraction or exponent part.
    public static func isInteger(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Bool {
        for index in range {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return false
            default: continue
            }
        }
        return true
    }

    private static func unescape(_ inner: UnsafeRawBufferPointer) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8 = [UInt8]()
        var index = 0
        func flushUTF8() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        while index < inner.count {
            let byte = inner[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < inner.count else {
                utf8.append(byte)
                index += 1
                continue
            }
            flushUTF8()
            let escaped = inner[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "u"):
                var code = hexValue(inner, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(code), index + 6 <= inner.count, inner[index] == UInt8(ascii: "\\"),
                    inner[index + 1] == UInt8(ascii: "u")
                {
                    let low = hexValue(inner, at: index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(escaped))
            }
        }
        flushUTF8()
        return String(scalars)
    }

    private static func hexValue(_ bytes: UnsafeRawBufferPointer, at start: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in start..<min(start + 4, bytes.count) {
            value = value << 4 + UInt32(Cursor.hexDigit(bytes[index]) ?? 0)
        }
        return value
    }

    /// Moves through the bytes, validating as it goes.
    struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var position: Int

        var isAtEnd: Bool { position >= bytes.count }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        func error(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(offset: position, reason: reason)
        }

        mutating func expect(_ byte: UInt8, _ reason: @autoclosure () -> String) throws(JSONSyntaxError) {
            guard peek() == byte else { throw error(reason()) }
            position += 1
        }

        /// Scans one value and returns its kind; `position` ends just past it.
        mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONValueKind {
            guard depth < JSONScanner.maximumDepth else { throw error("nesting is deeper than \(JSONScanner.maximumDepth) levels") }
            guard let byte = peek() else { throw error("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"):
                _ = try scanObjectMembers(depth: depth + 1, collect: false)
                return .object
            case UInt8(ascii: "["):
                _ = try scanArrayElements(depth: depth + 1, collect: false)
                return .array
            case UInt8(ascii: "\""):
                try scanString()
                return .string
            case UInt8(ascii: "t"):
                try scanLiteral("true")
                return .bool
            case UInt8(ascii: "f"):
                try scanLiteral("false")
                return .bool
            case UInt8(ascii: "n"):
                try scanLiteral("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try scanNumber()
                return .number
            default:
                throw error("unexpected character '\(Unicode.Scalar(byte))'")
            }
        }

        mutating func scanObjectMembers(depth: Int, collect: Bool = true) throws(JSONSyntaxError) -> [JSONMember] {
            try expect(UInt8(ascii: "{"), "expected '{'")
            var members: [JSONMember] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return members
            }
            if collect { members.reserveCapacity(JSONScanner.expectedMemberCount) }
            while true {
                skipWhitespace()
                let keyStart = position
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let hasEscape = try scanString()
                let keyEnd = position
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "expected ':' after an object key")
                skipWhitespace()
                let valueStart = position
                let kind = try scanValue(depth: depth)
                if collect {
                    let keyBytes = UnsafeRawBufferPointer(rebasing: bytes[(keyStart + 1)..<(keyEnd - 1)])
                    let key =
                        hasEscape
                        ? JSONScanner.decodeString(at: keyStart..<keyEnd, in: bytes)
                        : String(decoding: keyBytes, as: UTF8.self)
                    members.append(JSONMember(key: key, keyStart: keyStart, value: valueStart..<position, kind: kind))
                }
                skipWhitespace()
                guard let next = peek() else { throw error("unterminated object") }
                position += 1
                if next == UInt8(ascii: "}") { return members }
                guard next == UInt8(ascii: ",") else {
                    position -= 1
                    throw error("expected ',' or '}' in an object")
                }
            }
        }

        mutating func scanArrayElements(depth: Int, collect: Bool = true) throws(JSONSyntaxError) -> [JSONElement] {
            try expect(UInt8(ascii: "["), "expected '['")
            var elements: [JSONElement] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                position += 1
                return elements
            }
            if collect { elements.reserveCapacity(JSONScanner.expectedMemberCount) }
            while true {
                skipWhitespace()
                let start = position
                let kind = try scanValue(depth: depth)
                if collect { elements.append(JSONElement(range: start..<position, kind: kind)) }
                skipWhitespace()
                guard let next = peek() else { throw error("unterminated array") }
                position += 1
                if next == UInt8(ascii: "]") { return elements }
                guard next == UInt8(ascii: ",") else {
                    position -= 1
                    throw error("expected ',' or ']' in an array")
                }
            }
        }

        /// Scans a string; returns whether it contained an escape sequence.
        @discardableResult
        mutating func scanString() throws(JSONSyntaxError) -> Bool {
            position += 1
            var hasEscape = false
            while position < bytes.count {
                // Eight bytes at a time: skip a word with no byte to stop at, or jump straight to the
                // first one it has (stepping byte by byte there cost ~20 instructions a byte).
                while position + 8 <= bytes.count {
                    let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                    if let offset = Self.firstStopByte(in: word) {
                        position += offset
                        break
                    }
                    position += 8
                }
                guard position < bytes.count else { break }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return hasEscape
                }
                if byte == UInt8(ascii: "\\") {
                    hasEscape = true
                    guard position + 1 < bytes.count else { break }
                    switch bytes[position + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 2
                    case UInt8(ascii: "u"):
                        guard position + 6 <= bytes.count,
                            (2..<6).allSatisfy({ Self.hexDigit(bytes[position + $0]) != nil })
                        else { throw error("invalid \\u escape in a string") }
                        position += 6
                    default:
                        throw error("invalid escape sequence in a string")
                    }
                    continue
                }
                guard byte >= 0x20 else { throw error("unescaped control character in a string") }
                position += 1
            }
            throw error("unterminated string")
        }

        mutating func scanLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("unexpected end of input") }
            for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] {
                throw error("invalid literal")
            }
            position += count
        }

        mutating func scanNumber() throws(JSONSyntaxError) {
            if peek() == UInt8(ascii: "-") { position += 1 }
            guard let first = peek(), Self.isDigit(first) else { throw error("invalid number") }
            position += 1
            if first != UInt8(ascii: "0") {
                while let byte = peek(), Self.isDigit(byte) { position += 1 }
            }
            if peek() == UInt8(ascii: ".") {
                position += 1
                guard let byte = peek(), Self.isDigit(byte) else { throw error("invalid number") }
                while let byte = peek(), Self.isDigit(byte) { position += 1 }
            }
            if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                position += 1
                if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
                guard let digit = peek(), Self.isDigit(digit) else { throw error("invalid number") }
                while let byte = peek(), Self.isDigit(byte) { position += 1 }
            }
        }

        /// Whether any of the eight bytes of `word` is a quote, a backslash or a control character
        /// (below 0x20): the bytes a string scan must stop at. Exact, with no false positives.
        static func mayEndOrEscape(_ word: UInt64) -> Bool { stopByteFlags(word) != 0 }

        /// The index (0–7, in memory order) of the first byte of the little-endian `word` that is a
        /// quote, a backslash or a control character, or nil when there is none.
        static func firstStopByte(in word: UInt64) -> Int? {
            let flags = stopByteFlags(word)
            return flags == 0 ? nil : flags.trailingZeroBitCount >> 3
        }

        /// The high bit of each byte of `word` that is a quote, a backslash or a control character.
        /// The lowest flag is always exact: the subtraction's borrow runs only towards higher bytes,
        /// so a byte above a flagged one may be flagged wrongly, never one below it.
        static func stopByteFlags(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            func zeroByteFlags(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highBits }
            let control = (word &- ones &* 0x20) & ~word & highBits
            return control | zeroByteFlags(word ^ (ones &* 0x22)) | zeroByteFlags(word ^ (ones &* 0x5C))
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        static func hexDigit(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
    }
}
