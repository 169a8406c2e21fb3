import MultiProdigyJSON

extension PIIDetector.Text {
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
            let shape = PIIDetector.ValueShape(of: self, from: valueStart, to: index)
            let isCredential = shape.isPlausible && (shape.hasDigit || shape.hasSymbol || shape.hasOperator || shape.hasPunctuation)
            return isCredential ? valueStart..<index : nil
        }
        // A call or a subscript (`get_token()`, `environ["TOKEN"]`) computes the value.
        if self[index] == UInt8(ascii: "(") || self[index] == UInt8(ascii: "[") { return nil }
        let isConfigurationLine =
            !isSpacedOperator && operatorByte == UInt8(ascii: ":")
            && isConfigurationKey(endingAt: nameEnd, quoted: isQuotedName) && endsLine(at: index)
        let shape = PIIDetector.ValueShape(of: self, from: valueStart, to: index)
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
    package func isCredentialName(endingAt nameEnd: Int) -> Bool {
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
