import MultiProdigyJSON

extension PIIDetector {
    /// The characters a token of some issuer may contain beyond letters and digits.
    enum TokenAlphabet {
        /// Letters and digits only.
        case alphanumeric
        /// Letters, digits and `_`.
        case identifier
        /// Letters, digits, `_` and `-` (base64url).
        case urlSafe
        /// What an HTTP bearer credential may hold (RFC 6750 `b64token`).
        case bearer

        /// Whether `byte` belongs to the alphabet; letters and digits always do.
        package func contains(_ byte: UInt8) -> Bool {
            if byte.isLetter || byte.isDigit { return true }
            switch self {
            case .alphanumeric:
                return false
            case .identifier:
                return byte == UInt8(ascii: "_")
            case .urlSafe:
                return byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            case .bearer:
                switch byte {
                case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "+"),
                    UInt8(ascii: "/"), UInt8(ascii: "="):
                    return true
                default:
                    return false
                }
            }
        }
    }
}
