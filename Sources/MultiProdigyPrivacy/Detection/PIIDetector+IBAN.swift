import MultiProdigyJSON

extension PIIDetector.Text {
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
}
