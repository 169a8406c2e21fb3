import MultiProdigyJSON

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
    static let ibanLengths: [UInt8] = {
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
