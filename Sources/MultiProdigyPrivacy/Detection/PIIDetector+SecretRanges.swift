import MultiProdigyJSON

extension PIIDetector {
    /// Where `text` holds something shaped like a credential, so that it can be masked.
    ///
    /// Uses the detector's own key patterns (`Bearer` tokens, `sk-…`, `hf_…`, `ghp_…`, `xoxb-…`,
    /// AWS and Google keys, JSON Web Tokens, `api_key=…`-style assignments, private key armour)
    /// and adds keys of the caller's `schemes` (such as the gateway's own virtual keys, `mp-` and
    /// 20 or more letters and digits). Unlike the routing scan, it reports where each credential
    /// lies, and it expects decoded text: the words a client or a log reader would see.
    ///
    /// Ranges are byte offsets into the text's UTF-8, in order of their start; they may overlap.
    /// This is not a hot path: it runs on error messages and log lines only.
    ///
    /// - Parameters:
    ///   - text: UTF-8 bytes of decoded text.
    ///   - schemes: Further key prefixes, each ending in `-`, whose keys are 20 or more letters and digits.
    func credentialRanges(in text: UnsafeRawBufferPointer, schemes: [[UInt8]] = []) -> [Range<Int>] {
        let text = Text(bytes: text)
        var ranges: [Range<Int>] = []
        var index = 0
        while index < text.bytes.count {
            let found: Range<Int>?
            switch text[index] {
            case UInt8(ascii: "-"):
                if text.isKeyPrefix(endingWithDashAt: index) || schemes.contains(where: { text.isKey(ofScheme: $0, withDashAt: index) }) {
                    found = text.keyRange(around: index)
                } else if text.isPrivateKeyHeader(at: index) {
                    found = text.privateKeyRange(from: index)
                } else {
                    found = nil
                }
            case UInt8(ascii: "_"):
                found = text.isKeyPrefix(endingWithUnderscoreAt: index) ? text.keyRange(around: index) : nil
            case UInt8(ascii: "."):
                found = text.isJSONWebToken(withDotAt: index) ? text.jsonWebTokenRange(withDotAt: index) : nil
            case UInt8(ascii: "="), UInt8(ascii: ":"):
                // A value longer than the detector reads is masked to its end all the same.
                found = text.credentialValue(at: index).map {
                    $0.lowerBound..<$0.upperBound + text.token(from: $0.upperBound, over: .bearer).length
                }
            case UInt8(ascii: "A") where text.startsWord(at: index):
                if text.isAmazonAccessKey(at: index) {
                    found = index..<index + 20
                } else if text.isGoogleAPIKey(at: index) {
                    found = index..<index + 39
                } else {
                    found = nil
                }
            case UInt8(ascii: "B"), UInt8(ascii: "b"):
                // The scheme stays readable; the token goes.
                found =
                    text.startsWord(at: index) && text.isBearerToken(at: index)
                    ? index + 7..<index + 7 + text.token(from: index + 7, over: .bearer).length : nil
            default:
                found = nil
            }
            if let found {
                ranges.append(found)
                index = max(index + 1, found.upperBound)
            } else {
                index += 1
            }
        }
        return ranges
    }
}

extension PIIDetector.Text {
    /// Whether no letter, digit or `_` stands before `index`.
    func startsWord(at index: Int) -> Bool {
        let before = self[index - 1]
        return !PIIDetector.TokenAlphabet.identifier.contains(before)
    }

    /// A key of `scheme` (such as `mp-`) and 20 or more letters and digits, seen from the scheme's `-`.
    func isKey(ofScheme scheme: [UInt8], withDashAt dash: Int) -> Bool {
        let start = dash + 1 - scheme.count
        for (offset, byte) in scheme.enumerated() where self[start + offset] != byte {
            return false
        }
        return isKeyStart(at: start) && token(from: dash + 1, over: .alphanumeric).length >= 20
    }

    /// The whole key around the prefix's last `-` or `_` at `trigger`: the prefix's letters before
    /// it, and every URL-safe character after it.
    func keyRange(around trigger: Int) -> Range<Int> {
        var start = trigger
        while trigger - start < 16, PIIDetector.TokenAlphabet.identifier.contains(self[start - 1]) {
            start -= 1
        }
        return start..<trigger + token(from: trigger, over: .urlSafe).length
    }

    /// A JSON Web Token seen from the `.` after its header: header, payload and signature.
    func jsonWebTokenRange(withDotAt dot: Int) -> Range<Int> {
        var start = dot
        while dot - start < 1024, PIIDetector.TokenAlphabet.urlSafe.contains(self[start - 1]) {
            start -= 1
        }
        let signatureDot = dot + 1 + token(from: dot + 1, over: .urlSafe).length
        return start..<signatureDot + 1 + token(from: signatureDot + 1, over: .urlSafe).length
    }

    /// Private key armour from its header to the end of its footer, or to the end of the text when
    /// the footer is missing (a cut message still holds key material).
    func privateKeyRange(from header: Int) -> Range<Int> {
        let count = bytes.count
        var index = header + 11
        while index < count {
            if hasPrefix("-----END ", at: index) {
                var end = index + 9
                while end < count, !hasPrefix("-----", at: end) { end += 1 }
                return header..<min(count, end + 5)
            }
            index += 1
        }
        return header..<count
    }
}
