import MultiProdigyJSON

extension PIIDetector.Text {
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
}
