import MultiProdigyJSON

extension PIIDetector {
    /// What a candidate credential value is made of, to tell secrets from words, types and code.
    struct ValueShape {
        /// Six or more characters including a letter, not one character repeated, and not opening
        /// like a template, a placeholder, a collection, a pointer, an attribute or an enum case.
        var isPlausible = false
        /// Holds a digit.
        var hasDigit = false
        /// Holds a character that identifiers, types, paths and expressions do not: `@ # $ % ^ ~ &`,
        /// `!` before the end, or `=` as base64 padding at the end.
        var hasSymbol = false
        /// Holds an operator (`* + = |`), which is code in a program and base64 in a header.
        var hasOperator = false
        /// Holds `? ! : / < >`, which types, optionals and paths hold too.
        var hasPunctuation = false
        /// Holds a `.`.
        var hasDot = false
        /// Holds a lower-case letter followed by an upper-case one, as camelCase names do.
        var hasCamelHump = false
        /// How often letters and digits take turns; random tokens alternate, names rarely do.
        var alternations = 0

        /// Measures the value between `start` and `end` of `text`.
        init(of text: Text, from start: Int, to end: Int) {
            var hasLetter = false
            var isRepeated = true
            var previous: UInt8 = 0
            for index in start..<end {
                let byte = text[index]
                if byte.isLetter || byte >= 0x80 {
                    hasLetter = true
                    if previous.isDigit { alternations += 1 }
                    if byte.isUppercase, previous.isLowercase { hasCamelHump = true }
                } else if byte.isDigit {
                    hasDigit = true
                    if previous.isLetter { alternations += 1 }
                } else {
                    switch byte {
                    case UInt8(ascii: "."):
                        hasDot = true
                    case UInt8(ascii: "_"), UInt8(ascii: "-"):
                        break
                    case UInt8(ascii: "=") where index == end - 1:
                        hasSymbol = true
                    case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "|"):
                        hasOperator = true
                    case UInt8(ascii: "!") where index == end - 1:
                        hasPunctuation = true
                    case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                        hasPunctuation = true
                    default:
                        hasSymbol = true
                    }
                }
                if byte != text[start] { isRepeated = false }
                previous = byte
            }
            switch text[start] {
            case UInt8(ascii: "$"), UInt8(ascii: "<"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "["),
                UInt8(ascii: "("), UInt8(ascii: "*"), UInt8(ascii: "#"), UInt8(ascii: "@"), UInt8(ascii: "."):
                isPlausible = false
            default:
                isPlausible = end - start >= 6 && hasLetter && !isRepeated
            }
        }
    }
}
