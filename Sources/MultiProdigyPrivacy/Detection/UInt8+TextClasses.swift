import MultiProdigyJSON

extension UInt8 {
    /// `\`, which opens a JSON escape.
    package static var backslash: UInt8 { UInt8(ascii: "\\") }

    package var isDigit: Bool { self &- UInt8(ascii: "0") < 10 }

    var isUppercase: Bool { self &- UInt8(ascii: "A") < 26 }

    var isLowercase: Bool { self &- UInt8(ascii: "a") < 26 }

    package var isLetter: Bool { (self | 0x20) &- UInt8(ascii: "a") < 26 }

    /// Letters, digits and `_`: the bytes that continue a word or an identifier.
    var isWordByte: Bool { isLetter || isDigit || self == UInt8(ascii: "_") }

    /// The byte with ASCII letters in lower case, for case-insensitive comparison.
    package var lowercased: UInt8 { isLetter ? self | 0x20 : self }

    /// What an unquoted e-mail local part is made of in practice.
    var isLocalPartByte: Bool {
        switch self {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return isLetter || isDigit
        }
    }

    /// An upper-case letter or a digit, as an IBAN in its electronic or printed form holds.
    var isIBANCharacter: Bool { isUppercase || isDigit }

    /// Appends this IBAN character to a running mod-97 remainder; a letter counts as two digits (A = 10).
    func foldedIntoMod97(_ remainder: Int) -> Int {
        isDigit ? (remainder * 10 + Int(self &- UInt8(ascii: "0"))) % 97 : (remainder * 100 + Int(self) - 55) % 97
    }

    /// Whether this byte ends a credential value: a quote, an escape, white space or, for an
    /// unquoted value, punctuation that closes a field in a URL, a list or code.
    func endsCredentialValue(quoted: Bool) -> Bool {
        if self <= 0x20 || self == .backslash { return true }
        if quoted { return false }
        switch self {
        case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"),
            UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"), UInt8(ascii: "("), UInt8(ascii: "["):
            return true
        default:
            return false
        }
    }
}
