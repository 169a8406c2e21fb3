/// RFC 8259's grammar, written plainly for the JSON fuzz target to compare the optimised scanner with:
/// a document is one value between optional whitespace; strings take any byte from 0x20 up but `"`
/// and `\`, and the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`; numbers are `-? int frac? exp?`.
/// Nesting deeper than `maximumDepth` is refused, as the scanner refuses it.
struct ReferenceJSONGrammar {
    private let bytes: [UInt8]
    private var position = 0
    private let maximumDepth: Int

    /// Whether `bytes` are one JSON value, nested at most `maximumDepth` deep (the root array or object is depth 1).
    static func accepts(_ bytes: [UInt8], maximumDepth: Int) -> Bool {
        var grammar = ReferenceJSONGrammar(bytes: bytes, maximumDepth: maximumDepth)
        grammar.skipWhitespace()
        guard grammar.value(depth: 0) else { return false }
        grammar.skipWhitespace()
        return grammar.position == bytes.count
    }

    private init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        position += 1
        return true
    }

    private mutating func value(depth: Int) -> Bool {
        switch current {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func object(depth: Int) -> Bool {
        guard depth <= maximumDepth else { return false }
        position += 1
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            guard string() else { return false }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard value(depth: depth) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return true }
            guard take(UInt8(ascii: ",")) else { return false }
        }
    }

    private mutating func array(depth: Int) -> Bool {
        guard depth <= maximumDepth else { return false }
        position += 1
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return true }
        while true {
            skipWhitespace()
            guard value(depth: depth) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: "]")) { return true }
            guard take(UInt8(ascii: ",")) else { return false }
        }
    }

    private mutating func string() -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        while let byte = current {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return true
            case UInt8(ascii: "\\"):
                guard let escaped = current else { return false }
                position += 1
                if escaped == UInt8(ascii: "u") {
                    for _ in 0..<4 {
                        guard let digit = current, isHexDigit(digit) else { return false }
                        position += 1
                    }
                } else if !Array(#""\/bfnrt"#.utf8).contains(escaped) {
                    return false
                }
            case 0..<0x20:
                return false
            default:
                break
            }
        }
        return false
    }

    private mutating func number() -> Bool {
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            // No digit may follow a leading zero.
        } else {
            guard digits() else { return false }
        }
        if take(UInt8(ascii: ".")) {
            guard digits() else { return false }
        }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard digits() else { return false }
        }
        return true
    }

    /// One or more digits.
    private mutating func digits() -> Bool {
        let start = position
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
        return position > start
    }

    private mutating func literal(_ word: String) -> Bool {
        for byte in word.utf8 {
            guard take(byte) else { return false }
        }
        return true
    }

    private func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }
}
