/// Finds personal data and secrets in prompt text in one pass over its UTF-8 bytes.
///
/// The router asks the detector before it picks a target: a prompt that carries an e-mail address,
/// a phone number, a payment card, an IBAN, a national identity number, a credential or a private
/// key is only sent to local targets. The detector reads the bytes once and looks closer only where
/// a cheap trigger fires (`@`, `+`, `=`, `:`, `-----`, a digit or certain letters at the start of a
/// word). Candidates are confirmed with the format's own checks (Luhn, mod-97, the SSA's number
/// rules, issuer prefixes and lengths), so ordinary numbers, dates, versions, hashes and code pass
/// without a finding. It allocates nothing and uses no regular expressions.
///
/// The input may be plain text or the raw contents of a JSON string literal, escapes included, so
/// the gateway need not decode the request body: an escape such as `\n` or `\"` separates words
/// exactly as the character it stands for would.
///
/// ```swift
/// let detector = PIIDetector()
/// detector.firstFinding(in: #"Reach me at\njohn@example.com"#)  // .email
/// detector.firstFinding(in: "What is a good password policy?")  // nil
/// ```
public struct PIIDetector: Sendable {
    /// Creates a detector. It holds no state, so one instance can serve every request.
    public init() {}

    /// Returns the first kind of personal data or secret found in `text`, or `nil` when there is none.
    ///
    /// This is the routing hot path: it stops at the first finding and does not allocate.
    ///
    /// - Parameter text: UTF-8 bytes: plain text or the raw contents of a JSON string literal.
    public func firstFinding(in text: UnsafeRawBufferPointer) -> PIIKind? {
        var first: PIIKind?
        scan(text) { kind in
            first = kind
            return false
        }
        return first
    }

    /// Returns the first kind of personal data or secret found in `text`, or `nil` when there is none.
    public func firstFinding(in text: String) -> PIIKind? {
        var text = text
        return text.withUTF8 { firstFinding(in: UnsafeRawBufferPointer($0)) }
    }

    /// Returns every kind of personal data or secret found in `text`, for tests and explanations.
    ///
    /// - Parameter text: UTF-8 bytes: plain text or the raw contents of a JSON string literal.
    public func findings(in text: UnsafeRawBufferPointer) -> Set<PIIKind> {
        var found = Set<PIIKind>()
        scan(text) { kind in
            found.insert(kind)
            return found.count < PIIKind.allCases.count
        }
        return found
    }

    /// Returns every kind of personal data or secret found in `text`, for tests and explanations.
    public func findings(in text: String) -> Set<PIIKind> {
        var text = text
        return text.withUTF8 { findings(in: UnsafeRawBufferPointer($0)) }
    }

    /// Walks the bytes once and passes each finding to `report` until it returns false.
    private func scan(_ bytes: UnsafeRawBufferPointer, report: (PIIKind) -> Bool) {
        let text = Text(bytes: bytes)
        guard let base = bytes.baseAddress else { return }
        // Read through the base address with the count in a local, so that the loop does not
        // re-check the buffer for `nil` and reload its length at every byte.
        let count = bytes.count
        Self.roles.withUnsafeBufferPointer { roles in
            var index = 0
            // Digits and capitals only start a finding at the start of a word: the middle of a
            // hash, an identifier or a longer number is never the start of a card or a key. The
            // flag is read only off the fast path, so consecutive bytes do not wait on each other.
            var insideWord = false
            var bytewiseUntil = 0
            while index < count {
                // Prose is mostly lower-case letters and spaces, which can never start a finding:
                // skip them eight at a time, then handle the first other byte on its own. Where
                // such runs are short, as in code, go byte by byte for a while instead.
                if index >= bytewiseUntil, index &+ 8 <= count {
                    let chunk = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    let plain = Self.plainBytes(in: chunk)
                    if plain == Self.highBits {
                        insideWord = chunk >> 56 != 0x20
                        index &+= 8
                        continue
                    }
                    let skipped = (~plain & Self.highBits).trailingZeroBitCount >> 3
                    if skipped > 0 {
                        insideWord = (chunk >> UInt64((skipped &- 1) &* 8)) & 0xFF != 0x20
                        index &+= skipped
                    }
                    if skipped < 4 { bytewiseUntil = index &+ 8 }
                }
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                let role = roles[Int(byte)]
                if role.rawValue <= ByteRole.word.rawValue {
                    insideWord = role == .word
                    index += 1
                    continue
                }
                var finding: PIIKind?
                switch role {
                case .separator, .word:
                    break
                case .digit:
                    if !insideWord { finding = text.numberFinding(at: index) }
                    insideWord = true
                case .capital:
                    if !insideWord { finding = text.capitalizedWordFinding(at: index) }
                    insideWord = true
                case .trigger:
                    insideWord = byte == UInt8(ascii: "_")
                    switch byte {
                    case .backslash:
                        // A JSON escape stands for one character; skip it whole so that the `n` of
                        // `\n` does not glue itself to the word that follows. Any other backslash,
                        // as in a Windows path in plain text, is an ordinary separator.
                        switch text[index + 1] {
                        case UInt8(ascii: "u"):
                            index += 6
                            continue
                        case UInt8(ascii: "\""), .backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                            index += 2
                            continue
                        default:
                            break
                        }
                    case UInt8(ascii: "@"):
                        if text.isEmail(at: index) { finding = .email }
                    case UInt8(ascii: "+"):
                        if text.isInternationalPhone(at: index) { finding = .phone }
                    case UInt8(ascii: "="), UInt8(ascii: ":"):
                        if text.isCredentialAssignment(at: index) { finding = .secret }
                    case UInt8(ascii: "_"):
                        if text.isKeyPrefix(endingWithUnderscoreAt: index) { finding = .secret }
                    case UInt8(ascii: "."):
                        if text.isJSONWebToken(withDotAt: index) { finding = .secret }
                    default:
                        if text.isPrivateKeyHeader(at: index) {
                            finding = .privateKey
                        } else if text.isKeyPrefix(endingWithDashAt: index) {
                            finding = .secret
                        }
                        // Skip the whole run so that a long `--------` rule costs one check.
                        while text[index + 1] == UInt8(ascii: "-") { index += 1 }
                    }
                }
                if let finding, !report(finding) { return }
                index += 1
            }
        }
    }

    /// The top bit of each of the eight bytes in a word.
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Marks with its top bit each byte of `chunk` that is a lower-case ASCII letter or a space.
    ///
    /// Eight bytes are tested with a few integer operations. With every byte below 0x80, adding
    /// a constant to the whole word never carries from one byte into the next, so each byte's top
    /// bit answers a comparison for that byte alone.
    private static func plainBytes(in chunk: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let ascii = ~chunk & highBits
        let atLeastLowerA = chunk &+ ones &* (0x80 - 0x61)
        let pastLowerZ = chunk &+ ones &* (0x80 - 0x7B)
        let lowercase = atLeastLowerA & ~pastLowerZ
        let spaceXor = chunk ^ (ones &* 0x20)
        let space = ~((spaceXor &+ ones &* 0x7F) | spaceXor)
        return (lowercase | space) & ascii
    }

    /// What the scan does when it meets a byte.
    enum ByteRole: UInt8 {
        /// Ends a word and needs no closer look.
        case separator
        /// Continues a word and needs no closer look.
        case word
        /// A capital letter, which may begin an IBAN, an insurance number or a key.
        case capital
        /// A digit, which may begin a card, a phone or a social security number.
        case digit
        /// A byte worth a closer look wherever it stands: `@`, `+`, `=`, `:`, `-`, `_`, `.`, `\`.
        /// Key prefixes (`sk-`, `hf_`, `ghp_`, `xoxb-`) are found from their `-` or `_`, and JSON
        /// Web Tokens from their first `.`, so that common lower-case letters stay on the fast path.
        case trigger
    }

    /// The role of every byte value, looked up once per byte of input.
    private static let roles: [ByteRole] = (0...255).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .digit
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return .capital
        case UInt8(ascii: "a")...UInt8(ascii: "z"):
            return .word
        case UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "_"),
            UInt8(ascii: "."), .backslash:
            return .trigger
        default:
            return .separator
        }
    }

    /// Expected IBAN lengths by country (ISO 13616 registry), indexed by the two letters.
    fileprivate static let ibanLengths: [UInt8] = {
        let lengths: KeyValuePairs<String, UInt8> = [
            "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
            "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
            "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
            "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
            "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
            "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
            "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
            "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
            "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
        ]
        var table = [UInt8](repeating: 0, count: 26 * 26)
        for (country, length) in lengths {
            let letters = Array(country.utf8)
            table[Int(letters[0] - UInt8(ascii: "A")) * 26 + Int(letters[1] - UInt8(ascii: "A"))] = length
        }
        return table
    }()
}

extension PIIDetector {
    /// The bytes under inspection, read without traps: outside the text every byte reads as 0,
    /// so matchers can look ahead and behind without checking bounds at every step.
    struct Text {
        /// The UTF-8 bytes.
        let bytes: UnsafeRawBufferPointer

        /// The byte at `index`, or 0 outside the text.
        @inline(__always) subscript(index: Int) -> UInt8 {
            UInt(bitPattern: index) < UInt(bitPattern: bytes.count) ? bytes[index] : 0
        }

        // MARK: Shared helpers

        /// Whether `literal` appears at `index`, byte for byte.
        func hasPrefix(_ literal: StaticString, at index: Int) -> Bool {
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
        func value(ofDigits count: Int, at index: Int) -> Int {
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
        func token(from index: Int, over alphabet: TokenAlphabet) -> (length: Int, hasLetter: Bool, hasDigit: Bool) {
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

        // MARK: Numbers

        /// Checks a number that starts a word for a social security number, a North American phone
        /// number or a payment card.
        func numberFinding(at start: Int) -> PIIKind? {
            guard beginsNumber(at: start) else { return nil }
            if isSocialSecurityNumber(at: start) { return .nationalID }
            if isNorthAmericanPhone(at: start) { return .phone }
            if isPaymentCard(at: start) { return .card }
            return nil
        }

        /// `ddd-dd-dddd` or `ddd dd dddd` under the SSA's rules: the area is never 000, 666 or
        /// 900–999, the group never 00 and the serial never 0000.
        func isSocialSecurityNumber(at start: Int) -> Bool {
            let separator = self[start + 3]
            guard separator == UInt8(ascii: "-") || separator == UInt8(ascii: " "), hasDigits(3, at: start),
                hasDigits(2, at: start + 4), self[start + 6] == separator, hasDigits(4, at: start + 7),
                endsNumber(at: start + 11)
            else { return false }
            let area = value(ofDigits: 3, at: start)
            return area != 0 && area != 666 && area < 900 && value(ofDigits: 2, at: start + 4) != 0
                && value(ofDigits: 4, at: start + 7) != 0
        }

        /// `(555) 123-4567`, `555-123-4567`, `555.123.4567`, optionally after a `1-`, `1.` or `1 `
        /// trunk prefix. Area codes never begin with 0 or 1. Space-separated digits without a trunk
        /// prefix or parentheses are left alone: they are far more often columns of numbers.
        func isNorthAmericanPhone(at start: Int) -> Bool {
            var index = start
            var trunkSeparator: UInt8 = 0
            let afterOne = self[start + 1]
            if self[start] == UInt8(ascii: "1"),
                afterOne == UInt8(ascii: "-") || afterOne == UInt8(ascii: ".") || afterOne == UInt8(ascii: " "),
                self[start + 2].isDigit || self[start + 2] == UInt8(ascii: "(")
            {
                trunkSeparator = afterOne
                index += 2
            }
            let parenthesized: Bool
            if index == start, self[start - 1] == UInt8(ascii: "(") {
                parenthesized = true
            } else if index != start, self[index] == UInt8(ascii: "(") {
                parenthesized = true
                index += 1
            } else {
                parenthesized = false
            }
            guard hasDigits(3, at: index), self[index] >= UInt8(ascii: "2") else { return false }
            index += 3
            let exchangeSeparator: UInt8
            if parenthesized {
                guard self[index] == UInt8(ascii: ")") else { return false }
                index += self[index + 1] == UInt8(ascii: " ") ? 2 : 1
                guard hasDigits(3, at: index) else { return false }
                index += 3
                exchangeSeparator = self[index]
                guard
                    exchangeSeparator == UInt8(ascii: "-") || exchangeSeparator == UInt8(ascii: ".")
                        || exchangeSeparator == UInt8(ascii: " ")
                else { return false }
            } else {
                let separator = self[index]
                if trunkSeparator != 0 {
                    guard separator == trunkSeparator else { return false }
                } else {
                    guard separator == UInt8(ascii: "-") || separator == UInt8(ascii: ".") else { return false }
                }
                guard hasDigits(3, at: index + 1), self[index + 4] == separator else { return false }
                index += 4
                exchangeSeparator = separator
            }
            guard self[index] == exchangeSeparator, hasDigits(4, at: index + 1) else { return false }
            return endsNumber(at: index + 5)
        }

        /// 13–19 digits, compact or grouped by single spaces or dashes as cards are printed (fours,
        /// or 4-6-5 and 4-6-4), with a known issuer prefix and length and a valid Luhn digit.
        func isPaymentCard(at start: Int) -> Bool {
            let firstGroup = digitRunLength(from: start)
            if firstGroup >= 13 {
                return firstGroup <= 19 && endsNumber(at: start + firstGroup)
                    && Self.isCardIssuer(prefix: value(ofDigits: 4, at: start), length: firstGroup)
                    && passesLuhn(from: start, to: start + firstGroup)
            }
            let separator = self[start + 4]
            guard firstGroup == 4, separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { return false }
            let prefix = value(ofDigits: 4, at: start)
            var index = start + 4
            var total = 4
            var groups = 1
            var secondGroup = 0
            var onlyFours = true
            while groups < 6, self[index] == separator, self[index + 1].isDigit {
                let length = digitRunLength(from: index + 1)
                index += 1 + length
                total += length
                groups += 1
                if groups == 2 { secondGroup = length }
                let printedShape = (onlyFours && length <= 4) || (groups == 3 && secondGroup == 6 && (length == 4 || length == 5))
                if printedShape, (13...19).contains(total), endsNumber(at: index),
                    Self.isCardIssuer(prefix: prefix, length: total), passesLuhn(from: start, to: index)
                {
                    return true
                }
                if length != 4 { onlyFours = false }
                guard onlyFours || (groups == 2 && length == 6) else { return false }
            }
            return false
        }

        /// The Luhn check over the digits between `start` and `end`, skipping separators.
        func passesLuhn(from start: Int, to end: Int) -> Bool {
            var sum = 0
            var doubles = false
            var index = end - 1
            while index >= start {
                let byte = self[index]
                if byte.isDigit {
                    var digit = Int(byte &- UInt8(ascii: "0"))
                    if doubles {
                        digit *= 2
                        if digit > 9 { digit -= 9 }
                    }
                    sum += digit
                    doubles.toggle()
                }
                index -= 1
            }
            return sum % 10 == 0
        }

        /// Whether a card of `length` digits beginning with the four digits `prefix` matches an
        /// issuer's number range; other numbers that happen to pass Luhn are not cards.
        static func isCardIssuer(prefix: Int, length: Int) -> Bool {
            switch prefix {
            case 4000...4999:  // Visa
                return length == 13 || length == 16 || length == 19
            case 5100...5599, 2221...2720:  // Mastercard
                return length == 16
            case 3400...3499, 3700...3799:  // American Express
                return length == 15
            case 3000...3059, 3095, 3600...3699:  // Diners Club International
                return length == 14
            case 3800...3999:  // Diners Club on the Discover network
                return length == 16
            case 3528...3589:  // JCB
                return (16...19).contains(length)
            case 6011, 6440...6599:  // Discover
                return (16...19).contains(length)
            case 6200...6299, 2200...2204:  // UnionPay, Mir
                return (16...19).contains(length)
            case 5018, 5020, 5038, 5893, 6304, 6759, 6761...6763:  // Maestro
                return (13...19).contains(length)
            default:
                return false
            }
        }

        /// `+` and a country code followed by 7–14 digits (at most 15 in all, as E.164 allows),
        /// with single spaces, dashes, dots or one parenthesized group between them. `+1` numbers
        /// must have exactly ten digits after the country code.
        func isInternationalPhone(at plus: Int) -> Bool {
            let before = self[plus - 1]
            let first = self[plus + 1]
            guard !before.isWordByte, before != UInt8(ascii: "+"), first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9")
            else { return false }
            let codeLength = Self.countryCodeLength(
                first: Int(first &- UInt8(ascii: "0")),
                second: Int(self[plus + 2] &- UInt8(ascii: "0"))
            )
            var index = plus + 1
            var digits = 0
            var insideParentheses = false
            var afterSeparator = false
            scanning: while true {
                let byte = self[index]
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    digits += 1
                    guard digits <= 15 else { return false }
                    afterSeparator = false
                case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."):
                    // A separator inside the country code (`+3.14159265`) marks a number, not a phone.
                    let next = self[index + 1]
                    guard digits >= codeLength, !afterSeparator, next.isDigit || next == UInt8(ascii: "(") else {
                        break scanning
                    }
                    afterSeparator = true
                case UInt8(ascii: "("):
                    guard digits >= codeLength, !insideParentheses, self[index + 1].isDigit else { return false }
                    insideParentheses = true
                    afterSeparator = true
                case UInt8(ascii: ")"):
                    guard insideParentheses, !afterSeparator else { return false }
                    insideParentheses = false
                default:
                    break scanning
                }
                index += 1
            }
            guard !insideParentheses, endsNumber(at: index) else { return false }
            let national = digits - codeLength
            if codeLength == 1, first == UInt8(ascii: "1") { return national == 10 }
            return (7...14).contains(national)
        }

        /// The length of the ITU country code that begins with the digits `first` and `second`.
        static func countryCodeLength(first: Int, second: Int) -> Int {
            // Zones 1 and 7 use one digit; in the other zones the codes listed here use two and
            // the rest three (ITU-T E.164 assignments).
            switch (first, second) {
            case (1, _), (7, _):
                return 1
            case (2, 0), (2, 7), (3, 0...4), (3, 6), (3, 9), (4, 0...1), (4, 3...9), (5, 1...8), (6, 0...6),
                (8, 1...2), (8, 4), (8, 6), (9, 0...5), (9, 8):
                return 2
            default:
                return 3
            }
        }

        // MARK: E-mail

        /// A local part of the characters people use unquoted, `@`, and a domain of at least two
        /// labels ending in an alphabetic top-level domain. Not reported: `user@localhost` and other
        /// single-label hosts, `@mentions`, `package@1.2.3`, file names such as `icon@2x.png` and
        /// `git@host:owner/repository` remotes.
        func isEmail(at atSign: Int) -> Bool {
            var start = atSign
            while atSign - start < 64, self[start - 1].isLocalPartByte { start -= 1 }
            // A JSON escape right before the address (`\njohn@…`) is a separator, not part of it.
            if self[start - 1] == .backslash {
                start += self[start] == UInt8(ascii: "u") ? 5 : 1
            }
            guard start < atSign, self[start] != UInt8(ascii: ".") else { return false }

            var index = atSign + 1
            var completedLabels = 0
            var labelLength = 0
            var labelIsAlphabetic = true
            while true {
                let byte = self[index]
                if byte.isLetter || byte.isDigit || byte == UInt8(ascii: "-") {
                    if labelLength == 0, byte == UInt8(ascii: "-") { return false }
                    labelLength += 1
                    labelIsAlphabetic = labelIsAlphabetic && byte.isLetter
                } else if byte == UInt8(ascii: "."), labelLength > 0, self[index + 1].isLetter || self[index + 1].isDigit {
                    if self[index - 1] == UInt8(ascii: "-") { return false }
                    completedLabels += 1
                    labelLength = 0
                    labelIsAlphabetic = true
                } else {
                    break
                }
                index += 1
            }
            guard completedLabels >= 1, labelLength >= 2, labelIsAlphabetic, !isFileExtension(from: index - labelLength, to: index)
            else { return false }
            let after = self[index]
            let afterThat = self[index + 1]
            let isRemote = after == UInt8(ascii: ":") && (afterThat.isWordByte || afterThat == UInt8(ascii: "/"))
            return !isRemote
        }

        /// Whether the label between `start` and `end` is a file extension that is no top-level
        /// domain, as in `icon@2x.png` or `Package@swift-6.0.swift`.
        func isFileExtension(from start: Int, to end: Int) -> Bool {
            switch end - start {
            case 2:
                return hasPrefixIgnoringCase("js", at: start) || hasPrefixIgnoringCase("kt", at: start)
            case 3:
                return hasPrefixIgnoringCase("png", at: start) || hasPrefixIgnoringCase("jpg", at: start)
                    || hasPrefixIgnoringCase("gif", at: start) || hasPrefixIgnoringCase("svg", at: start)
                    || hasPrefixIgnoringCase("pdf", at: start) || hasPrefixIgnoringCase("txt", at: start)
                    || hasPrefixIgnoringCase("yml", at: start) || hasPrefixIgnoringCase("css", at: start)
                    || hasPrefixIgnoringCase("htm", at: start) || hasPrefixIgnoringCase("cpp", at: start)
                    || hasPrefixIgnoringCase("hpp", at: start) || hasPrefixIgnoringCase("xml", at: start)
                    || hasPrefixIgnoringCase("log", at: start)
            case 4:
                return hasPrefixIgnoringCase("jpeg", at: start) || hasPrefixIgnoringCase("webp", at: start)
                    || hasPrefixIgnoringCase("heic", at: start) || hasPrefixIgnoringCase("json", at: start)
                    || hasPrefixIgnoringCase("yaml", at: start) || hasPrefixIgnoringCase("html", at: start)
                    || hasPrefixIgnoringCase("java", at: start) || hasPrefixIgnoringCase("toml", at: start)
                    || hasPrefixIgnoringCase("lock", at: start)
            case 5:
                return hasPrefixIgnoringCase("swift", at: start)
            default:
                return false
            }
        }

        // MARK: Words

        /// Checks a word that starts with a capital for an IBAN, an insurance number or a key.
        func capitalizedWordFinding(at start: Int) -> PIIKind? {
            if isIBAN(at: start) { return .iban }
            if isNationalInsuranceNumber(at: start) { return .nationalID }
            switch self[start] {
            case UInt8(ascii: "A"):
                return isAmazonAccessKey(at: start) || isGoogleAPIKey(at: start) ? .secret : nil
            case UInt8(ascii: "B"):
                return isBearerToken(at: start) ? .secret : nil
            default:
                return nil
            }
        }

        /// Whether a key may start at `start`: a word starts there (the byte before it is no word
        /// byte, or ends a JSON escape such as `\n` or `\u00a0`), and it does not continue a slug,
        /// a file name or a path through `-`, `.` or `/`, as in `flask-sk-learn-…`.
        func isKeyStart(at start: Int) -> Bool {
            let before = self[start - 1]
            switch before {
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"):
                return false
            default:
                return !before.isWordByte || self[start - 2] == .backslash
                    || (self[start - 6] == .backslash && self[start - 5] == UInt8(ascii: "u"))
            }
        }

        /// Keys whose prefix ends in the `-` at `dash`: OpenAI and Anthropic (`sk-`, `sk-proj-`,
        /// `sk-ant-`), GitLab (`glpat-`) and Slack (`xoxb-`, `xapp-` and kin).
        func isKeyPrefix(endingWithDashAt dash: Int) -> Bool {
            switch self[dash - 1] {
            case UInt8(ascii: "k"):
                guard self[dash - 2] == UInt8(ascii: "s"), isKeyStart(at: dash - 2) else { return false }
                // The digit requirement keeps `sk-learn`-style words and slugs out.
                let body = token(from: dash + 1, over: .urlSafe)
                return body.length >= 20 && body.hasLetter && body.hasDigit
            case UInt8(ascii: "t"):
                return isKeyStart(at: dash - 5) && isGitHubOrGitLabToken(at: dash - 5)
            default:
                return isKeyStart(at: dash - 4) && isSlackToken(at: dash - 4)
            }
        }

        /// Keys whose prefix ends in the `_` at `underscore`: Hugging Face (`hf_`), GitHub (`ghp_`,
        /// `gho_`, `ghs_`, `ghu_`, `ghr_`, `github_pat_`) and Stripe (`sk_live_`, `rk_live_`, `…_test_`).
        func isKeyPrefix(endingWithUnderscoreAt underscore: Int) -> Bool {
            if self[underscore - 1] == UInt8(ascii: "f"), self[underscore - 2] == UInt8(ascii: "h"),
                isKeyStart(at: underscore - 2)
            {
                let body = token(from: underscore + 1, over: .alphanumeric)
                return body.length >= 30 && self[underscore + 1 + body.length] != UInt8(ascii: "_")
            }
            if self[underscore - 1] == UInt8(ascii: "k"), isKeyStart(at: underscore - 2) {
                return isStripeKey(at: underscore - 2)
            }
            if self[underscore - 3] == UInt8(ascii: "g"), isKeyStart(at: underscore - 3) {
                return isGitHubOrGitLabToken(at: underscore - 3)
            }
            return self[underscore - 1] == UInt8(ascii: "b") && isKeyStart(at: underscore - 6)
                && isGitHubOrGitLabToken(at: underscore - 6)
        }

        /// Stripe secret and restricted keys: `sk_live_`, `rk_live_` and their `_test_` twins.
        func isStripeKey(at start: Int) -> Bool {
            guard self[start] == UInt8(ascii: "s") || self[start] == UInt8(ascii: "r"), self[start + 1] == UInt8(ascii: "k"),
                self[start + 2] == UInt8(ascii: "_"),
                hasPrefix("live_", at: start + 3) || hasPrefix("test_", at: start + 3)
            else { return false }
            return token(from: start + 8, over: .alphanumeric).length >= 16
        }

        /// GitHub tokens (`ghp_`, `gho_`, `ghs_`, `ghu_`, `ghr_`, `github_pat_`) and GitLab personal
        /// access tokens (`glpat-`).
        func isGitHubOrGitLabToken(at start: Int) -> Bool {
            if hasPrefix("github_pat_", at: start) {
                return token(from: start + 11, over: .identifier).length >= 22
            }
            if hasPrefix("glpat-", at: start) {
                return token(from: start + 6, over: .urlSafe).length >= 20
            }
            guard self[start + 1] == UInt8(ascii: "h"), self[start + 3] == UInt8(ascii: "_") else { return false }
            switch self[start + 2] {
            case UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "r"):
                let body = token(from: start + 4, over: .alphanumeric)
                return body.length >= 30 && self[start + 4 + body.length] != UInt8(ascii: "_")
            default:
                return false
            }
        }

        /// Slack tokens: `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-` and app-level `xapp-`.
        func isSlackToken(at start: Int) -> Bool {
            let bodyStart: Int
            if hasPrefix("xox", at: start), self[start + 4] == UInt8(ascii: "-") {
                switch self[start + 3] {
                case UInt8(ascii: "b"), UInt8(ascii: "a"), UInt8(ascii: "p"), UInt8(ascii: "r"), UInt8(ascii: "s"):
                    bodyStart = start + 5
                default:
                    return false
                }
            } else if hasPrefix("xapp-", at: start) {
                bodyStart = start + 5
            } else {
                return false
            }
            let body = token(from: bodyStart, over: .urlSafe)
            return body.length >= 10 && body.hasDigit
        }

        /// AWS access key ids: `AKIA` (long-term) or `ASIA` (temporary) and 16 upper-case letters or digits.
        func isAmazonAccessKey(at start: Int) -> Bool {
            guard hasPrefix("AKIA", at: start) || hasPrefix("ASIA", at: start) else { return false }
            for offset in 4..<20 {
                let byte = self[start + offset]
                guard byte.isUppercase || byte.isDigit else { return false }
            }
            return !self[start + 20].isWordByte
        }

        /// Google API keys: `AIza` and 35 URL-safe characters.
        func isGoogleAPIKey(at start: Int) -> Bool {
            hasPrefix("AIza", at: start) && token(from: start + 4, over: .urlSafe).length == 35
        }

        /// A JSON Web Token seen from the `.` after its header: two base64url segments that both
        /// decode to JSON objects (`eyJ` is `{"` encoded), a dot after each, then a signature that
        /// unsigned tokens leave empty.
        func isJSONWebToken(withDotAt dot: Int) -> Bool {
            guard hasPrefix("eyJ", at: dot + 1) else { return false }
            var headerStart = dot
            while dot - headerStart < 1024, TokenAlphabet.urlSafe.contains(self[headerStart - 1]) {
                headerStart -= 1
            }
            // A JSON escape right before the token (`\neyJ…`) is a separator, not part of it.
            if self[headerStart - 1] == .backslash {
                headerStart += self[headerStart] == UInt8(ascii: "u") ? 5 : 1
            }
            guard dot - headerStart >= 10, hasPrefix("eyJ", at: headerStart) else { return false }
            let payload = token(from: dot + 1, over: .urlSafe).length
            return payload >= 10 && self[dot + 1 + payload] == UInt8(ascii: ".")
        }

        /// `Bearer` and one space, then a token of 20 or more characters mixing letters and digits,
        /// as in an `Authorization` header; "the bearer of this letter" has no such token.
        func isBearerToken(at start: Int) -> Bool {
            guard hasPrefixIgnoringCase("bearer ", at: start) else { return false }
            let body = token(from: start + 7, over: .bearer)
            return body.length >= 20 && body.hasLetter && body.hasDigit
        }

        /// `AB123456C` or `AB 12 34 56 C`: a UK National Insurance number with a prefix HMRC can
        /// issue (no D, F, I, Q, U or V; no O second; not BG, GB, KN, NK, NT, TN or ZZ) and a
        /// suffix from A to D.
        func isNationalInsuranceNumber(at start: Int) -> Bool {
            let first = self[start]
            let second = self[start + 1]
            let third = self[start + 2]
            guard second.isUppercase, third.isDigit || (third == UInt8(ascii: " ") && self[start + 3].isDigit) else {
                return false
            }
            switch first {
            case UInt8(ascii: "D"), UInt8(ascii: "F"), UInt8(ascii: "I"), UInt8(ascii: "Q"), UInt8(ascii: "U"), UInt8(ascii: "V"):
                return false
            default:
                break
            }
            switch second {
            case UInt8(ascii: "D"), UInt8(ascii: "F"), UInt8(ascii: "I"), UInt8(ascii: "O"), UInt8(ascii: "Q"), UInt8(ascii: "U"),
                UInt8(ascii: "V"):
                return false
            default:
                break
            }
            if hasPrefix("BG", at: start) || hasPrefix("GB", at: start) || hasPrefix("KN", at: start)
                || hasPrefix("NK", at: start) || hasPrefix("NT", at: start) || hasPrefix("TN", at: start)
                || hasPrefix("ZZ", at: start)
            {
                return false
            }
            var index = start + 2
            if self[index] == UInt8(ascii: " ") {
                for _ in 0..<3 {
                    guard self[index] == UInt8(ascii: " "), hasDigits(2, at: index + 1) else { return false }
                    index += 3
                }
                guard self[index] == UInt8(ascii: " ") else { return false }
                index += 1
            } else {
                guard hasDigits(6, at: index) else { return false }
                index += 6
            }
            let suffix = self[index]
            return suffix >= UInt8(ascii: "A") && suffix <= UInt8(ascii: "D") && !self[index + 1].isWordByte
        }

        // MARK: IBAN

        /// Country code, check digits 02–98 and an upper-case BBAN, compact or in groups of four
        /// separated by single spaces, whose length is the country's (15–34 for countries not in
        /// the table) and whose ISO 7064 mod-97 remainder is 1.
        func isIBAN(at start: Int) -> Bool {
            let first = self[start]
            let second = self[start + 1]
            guard first.isUppercase, second.isUppercase, hasDigits(2, at: start + 2) else { return false }
            let checkDigits = value(ofDigits: 2, at: start + 2)
            guard (2...98).contains(checkDigits) else { return false }
            let expectedLength = Int(
                PIIDetector.ibanLengths[Int(first - UInt8(ascii: "A")) * 26 + Int(second - UInt8(ascii: "A"))]
            )

            // The checksum reads the BBAN first and the country code and check digits last, so the
            // remainder of the BBAN is kept as it grows and the first four are folded in per candidate.
            func isValid(length: Int, remainder: Int, isLast: Bool) -> Bool {
                let lengthFits = expectedLength != 0 ? length == expectedLength : isLast && (15...34).contains(length)
                guard lengthFits else { return false }
                var total = (remainder * 100 + Int(first) - 55) % 97
                total = (total * 100 + Int(second) - 55) % 97
                return (total * 100 + checkDigits) % 97 == 1
            }

            var index = start + 4
            var length = 4
            var remainder = 0
            if self[index] != UInt8(ascii: " ") {
                while self[index].isIBANCharacter {
                    remainder = self[index].foldedIntoMod97(remainder)
                    length += 1
                    index += 1
                    guard length <= 34 else { return false }
                }
                return !self[index].isWordByte && isValid(length: length, remainder: remainder, isLast: true)
            }
            while self[index] == UInt8(ascii: " "), self[index + 1].isIBANCharacter {
                index += 1
                var groupLength = 0
                while groupLength < 4, self[index].isIBANCharacter {
                    remainder = self[index].foldedIntoMod97(remainder)
                    groupLength += 1
                    length += 1
                    index += 1
                }
                guard length <= 34, !self[index].isWordByte else { return false }
                let isLast = groupLength < 4 || self[index] != UInt8(ascii: " ") || !self[index + 1].isIBANCharacter
                if isValid(length: length, remainder: remainder, isLast: isLast) { return true }
                if groupLength < 4 { return false }
            }
            return false
        }

        // MARK: Assignments and armour

        /// Where the credential assigned at `operatorIndex` lies, or nil when there is none:
        /// `password=…`, `"api_key": "…"`, `client_secret: …`, `Authorization: Bearer …` and the
        /// like, when the value looks like a real credential rather than prose, a type, code or a
        /// placeholder. The range covers the value alone, without quotes or scheme.
        ///
        /// A quoted value is a literal someone wrote down: it must have six or more characters and
        /// mix letters with digits or symbols, which rules out words, numbers and placeholders such
        /// as `YOUR_API_KEY`, `<token>`, `${DB_PASSWORD}` or `********`. An unquoted value is as
        /// often code (`apiKey: String?`, `token = make_token(id)`, `password = form.password2`), so
        /// it must also carry a symbol such as `@`, `#` or `$`, look random (letters and digits
        /// taking turns three times or more), or stand where only configuration puts values and
        /// hold a digit: `NAME=value` without spaces (environment files, URLs, command lines), after
        /// an `Authorization` scheme, or on a `name: value` line of its own whose name is not
        /// camelCase (YAML, HTTP headers).
        func credentialValue(at operatorIndex: Int) -> Range<Int>? {
            var nameEnd = operatorIndex
            while operatorIndex - nameEnd < 4, self[nameEnd - 1] == UInt8(ascii: " ") { nameEnd -= 1 }
            let isSpacedOperator = nameEnd != operatorIndex
            let closingQuote = self[nameEnd - 1]
            let isQuotedName = closingQuote == UInt8(ascii: "\"") || closingQuote == UInt8(ascii: "'")
            if isQuotedName {
                nameEnd -= self[nameEnd - 2] == .backslash ? 2 : 1
            }
            guard isCredentialName(endingAt: nameEnd) else { return nil }

            var index = operatorIndex + 1
            let operatorByte = self[operatorIndex]
            let next = self[index]
            if (operatorByte == UInt8(ascii: ":") && next == UInt8(ascii: "="))
                || (operatorByte == UInt8(ascii: "=") && (next == UInt8(ascii: ">") || next == UInt8(ascii: "=")))
            {
                index += 1
            }
            let operatorEnd = index
            while index - operatorEnd < 4, self[index] == UInt8(ascii: " ") || self[index] == UInt8(ascii: "\t") {
                index += 1
            }
            let isCompact = operatorByte == UInt8(ascii: "=") && !isSpacedOperator && index == operatorIndex + 1
            var quote: UInt8 = 0
            switch self[index] {
            case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
                quote = self[index]
                index += 1
            case .backslash where self[index + 1] == UInt8(ascii: "\""):
                quote = UInt8(ascii: "\"")
                index += 2
            default:
                break
            }
            let valueScheme = index
            if hasPrefixIgnoringCase("authorization", at: nameEnd - 13) {
                // Skip the scheme (`Bearer`, `Basic`, `Token`) to reach the credential itself.
                var scheme = index
                while self[scheme].isLetter { scheme += 1 }
                if scheme > index, self[scheme] == UInt8(ascii: " ") { index = scheme + 1 }
            }
            let valueStart = index
            while index - valueStart < 256, !self[index].endsCredentialValue(quoted: quote != 0) {
                if quote != 0, self[index] == quote { break }
                index += 1
            }
            if quote != 0 {
                let shape = ValueShape(of: self, from: valueStart, to: index)
                let isCredential = shape.isPlausible && (shape.hasDigit || shape.hasSymbol || shape.hasOperator || shape.hasPunctuation)
                return isCredential ? valueStart..<index : nil
            }
            // A call or a subscript (`get_token()`, `environ["TOKEN"]`) computes the value.
            if self[index] == UInt8(ascii: "(") || self[index] == UInt8(ascii: "[") { return nil }
            let isConfigurationLine =
                !isSpacedOperator && operatorByte == UInt8(ascii: ":")
                && isConfigurationKey(endingAt: nameEnd, quoted: isQuotedName) && endsLine(at: index)
            let shape = ValueShape(of: self, from: valueStart, to: index)
            guard shape.isPlausible else { return nil }
            if shape.hasSymbol { return valueStart..<index }
            // `config.password2` and `base64.b64encode` are member paths, not values.
            if shape.hasDot, self[valueStart].isLetter { return nil }
            if shape.alternations >= 3 { return valueStart..<index }
            if isCompact || valueStart > valueScheme {
                return shape.hasDigit || shape.hasOperator ? valueStart..<index : nil
            }
            let isCredential = isConfigurationLine && (shape.hasDigit || shape.hasOperator) && !shape.hasCamelHump
            return isCredential ? valueStart..<index : nil
        }

        /// Whether the `=` or `:` at `operatorIndex` assigns a credential; see ``credentialValue(at:)``.
        func isCredentialAssignment(at operatorIndex: Int) -> Bool {
            credentialValue(at: operatorIndex) != nil
        }

        /// Whether the name ending at `nameEnd` holds a credential, matched case-insensitively at
        /// the end of the name: `password`, `passwd`, `passphrase`, `secret`, `token`,
        /// `authorization`, and `key` after `api`, `access`, `secret` or `private` with or without
        /// `_` or `-` (`DB_PASSWORD`, `client_secret`, `X-Api-Key`, `accessToken`). Plural and
        /// compound names such as `max_tokens` or `token_count` end differently and are not
        /// credentials. The last letter picks the candidates, so most names cost one comparison.
        func isCredentialName(endingAt nameEnd: Int) -> Bool {
            func endsWith(_ literal: StaticString, at end: Int) -> Bool {
                hasPrefixIgnoringCase(literal, at: end - literal.utf8CodeUnitCount)
            }
            switch self[nameEnd - 1].lowercased {
            case UInt8(ascii: "d"):
                return endsWith("password", at: nameEnd) || endsWith("passwd", at: nameEnd)
            case UInt8(ascii: "e"):
                return endsWith("passphrase", at: nameEnd)
            case UInt8(ascii: "t"):
                return endsWith("secret", at: nameEnd)
            case UInt8(ascii: "n"):
                return endsWith("token", at: nameEnd) || endsWith("authorization", at: nameEnd)
            case UInt8(ascii: "y"):
                guard endsWith("key", at: nameEnd) else { return false }
                var stemEnd = nameEnd - 3
                if self[stemEnd - 1] == UInt8(ascii: "_") || self[stemEnd - 1] == UInt8(ascii: "-") { stemEnd -= 1 }
                return endsWith("api", at: stemEnd) || endsWith("access", at: stemEnd) || endsWith("secret", at: stemEnd)
                    || endsWith("private", at: stemEnd)
            default:
                return false
            }
        }

        /// Whether the name ending at `nameEnd` is a configuration key: only indentation before it on
        /// its line, and no camelCase, which marks a parameter or a property in code instead.
        func isConfigurationKey(endingAt nameEnd: Int, quoted: Bool) -> Bool {
            var index = nameEnd - 1
            while nameEnd - index < 64, self[index].isWordByte || self[index] == UInt8(ascii: "-") || self[index] == UInt8(ascii: ".") {
                if self[index].isLowercase, self[index + 1].isUppercase, index + 1 < nameEnd { return false }
                index -= 1
            }
            if quoted {
                index -= self[index - 1] == .backslash ? 2 : 1
            }
            while self[index] == UInt8(ascii: " ") || self[index] == UInt8(ascii: "\t") { index -= 1 }
            switch self[index] {
            case 0, UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return true
            case UInt8(ascii: "n"), UInt8(ascii: "r"):
                return self[index - 1] == .backslash
            default:
                return false
            }
        }

        /// Whether only spaces stand between `index` and the end of the line, escaped or not.
        func endsLine(at index: Int) -> Bool {
            var index = index
            while self[index] == UInt8(ascii: " ") { index += 1 }
            switch self[index] {
            case 0, UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return true
            case .backslash:
                return self[index + 1] == UInt8(ascii: "n") || self[index + 1] == UInt8(ascii: "r")
            default:
                return false
            }
        }

        /// `-----BEGIN … PRIVATE KEY-----` or `-----BEGIN PGP PRIVATE KEY BLOCK-----`. The header
        /// alone is enough: it is only written where key material follows.
        func isPrivateKeyHeader(at start: Int) -> Bool {
            guard self[start - 1] != UInt8(ascii: "-"), hasPrefix("-----BEGIN ", at: start) else { return false }
            var end = start + 11
            while end - start < 60, self[end].isUppercase || self[end].isDigit || self[end] == UInt8(ascii: " ") {
                end += 1
            }
            guard hasPrefix("-----", at: end) else { return false }
            return hasPrefix(" PRIVATE KEY", at: end - 12) || hasPrefix(" PRIVATE KEY BLOCK", at: end - 18)
        }
    }

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
        func contains(_ byte: UInt8) -> Bool {
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

extension UInt8 {
    /// `\`, which opens a JSON escape.
    fileprivate static var backslash: UInt8 { UInt8(ascii: "\\") }

    fileprivate var isDigit: Bool { self &- UInt8(ascii: "0") < 10 }

    fileprivate var isUppercase: Bool { self &- UInt8(ascii: "A") < 26 }

    fileprivate var isLowercase: Bool { self &- UInt8(ascii: "a") < 26 }

    fileprivate var isLetter: Bool { (self | 0x20) &- UInt8(ascii: "a") < 26 }

    /// Letters, digits and `_`: the bytes that continue a word or an identifier.
    fileprivate var isWordByte: Bool { isLetter || isDigit || self == UInt8(ascii: "_") }

    /// The byte with ASCII letters in lower case, for case-insensitive comparison.
    fileprivate var lowercased: UInt8 { isLetter ? self | 0x20 : self }

    /// What an unquoted e-mail local part is made of in practice.
    fileprivate var isLocalPartByte: Bool {
        switch self {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return isLetter || isDigit
        }
    }

    /// An upper-case letter or a digit, as an IBAN in its electronic or printed form holds.
    fileprivate var isIBANCharacter: Bool { isUppercase || isDigit }

    /// Appends this IBAN character to a running mod-97 remainder; a letter counts as two digits (A = 10).
    fileprivate func foldedIntoMod97(_ remainder: Int) -> Int {
        isDigit ? (remainder * 10 + Int(self &- UInt8(ascii: "0"))) % 97 : (remainder * 100 + Int(self) - 55) % 97
    }

    /// Whether this byte ends a credential value: a quote, an escape, white space or, for an
    /// unquoted value, punctuation that closes a field in a URL, a list or code.
    fileprivate func endsCredentialValue(quoted: Bool) -> Bool {
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
