import MultiProdigyJSON

extension PIIDetector {
    /// The bytes under inspection, read without traps: outside the text every byte reads as 0,
    /// so matchers can look ahead and behind without checking bounds at every step.
    struct Text {
        /// The UTF-8 bytes.
        package let bytes: UnsafeRawBufferPointer

        /// The byte at `index`, or 0 outside the text.
        @inline(__always) subscript(index: Int) -> UInt8 {
            UInt(bitPattern: index) < UInt(bitPattern: bytes.count) ? bytes[index] : 0
        }

        /// Whether `literal` appears at `index`, byte for byte.
        package func hasPrefix(_ literal: StaticString, at index: Int) -> Bool {
            let count = literal.utf8CodeUnitCount
            let start = literal.utf8Start
            for offset in 0..<count where self[index + offset] != start[offset] {
                return false
            }
            return true
        }

        /// Whether the letters of `literal` appear at `index`, ignoring ASCII case.
        func hasPrefixIgnoringCase(_ literal: StaticString, at index: Int) -> Bool {
            let count = literal.utf8CodeUnitCount
            let start = literal.utf8Start
            for offset in 0..<count where self[index + offset].lowercased != start[offset] {
                return false
            }
            return true
        }

        /// Whether `count` digits start at `index`.
        func hasDigits(_ count: Int, at index: Int) -> Bool {
            for offset in 0..<count where !self[index + offset].isDigit {
                return false
            }
            return true
        }

        /// The decimal value of `count` digits at `index`; call after ``hasDigits(_:at:)``.
        package func value(ofDigits count: Int, at index: Int) -> Int {
            var value = 0
            for offset in 0..<count {
                value = value * 10 + Int(self[index + offset] &- UInt8(ascii: "0"))
            }
            return value
        }

        /// How many digits follow `index` without a break.
        func digitRunLength(from index: Int) -> Int {
            var end = index
            while self[end].isDigit { end += 1 }
            return end - index
        }

        /// Whether a number may begin at `start`: it must not continue an identifier or a longer
        /// number through a joiner, as `XJ-900-…`, `1.555.…` or `12,555…` do.
        func beginsNumber(at start: Int) -> Bool {
            let before = self[start - 1]
            switch before {
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"):
                return !self[start - 2].isWordByte
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                return !self[start - 2].isDigit
            default:
                return true
            }
        }

        /// Whether a number may end before `end`: it must not run on into a word or, through a
        /// joiner, into more digits, as version numbers, dates and IP addresses do.
        func endsNumber(at end: Int) -> Bool {
            let after = self[end]
            if after.isWordByte { return false }
            switch after {
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ","), UInt8(ascii: ":"):
                return !self[end + 1].isDigit
            default:
                return true
            }
        }

        /// Measures the token starting at `index` over `alphabet`, noting whether it mixes letters and digits.
        package func token(from index: Int, over alphabet: PIIDetector.TokenAlphabet) -> (length: Int, hasLetter: Bool, hasDigit: Bool) {
            var end = index
            var hasLetter = false
            var hasDigit = false
            while true {
                let byte = self[end]
                if byte.isLetter {
                    hasLetter = true
                } else if byte.isDigit {
                    hasDigit = true
                } else if !alphabet.contains(byte) {
                    break
                }
                end += 1
            }
            return (end - index, hasLetter, hasDigit)
        }
    }
}
