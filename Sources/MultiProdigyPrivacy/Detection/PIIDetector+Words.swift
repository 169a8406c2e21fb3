import MultiProdigyJSON

extension PIIDetector.Text {
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
        while dot - headerStart < 1024, PIIDetector.TokenAlphabet.urlSafe.contains(self[headerStart - 1]) {
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
}
