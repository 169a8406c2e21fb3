import MultiProdigyJSON

extension PIIDetector.Text {
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
}
