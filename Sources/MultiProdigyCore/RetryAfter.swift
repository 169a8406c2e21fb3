import MultiProdigyJSON

/// Reads how long an upstream asked the gateway to wait before calling it again.
///
/// Two headers carry the wish. OpenAI sends `retry-after-ms`, a non-negative decimal number of
/// milliseconds, alongside the standard `Retry-After` (RFC 9110 §10.2.3), which is either
/// delta-seconds or an HTTP-date. The millisecond header is finer, so it wins when it is valid;
/// an invalid one falls back to `Retry-After` rather than discarding the upstream's wish.
///
/// The headers come from upstreams the gateway does not control, so nothing here trusts them:
/// garbage, negative numbers and `NaN` read as "no wish" (`nil`), and anything longer than
/// ``maximumDelay`` reads as ``maximumDelay`` so that no arithmetic downstream can overflow.
/// Dates are parsed by hand (days-from-civil arithmetic) and compared with the caller's `now`, so
/// the result does not depend on a clock or on Foundation.
///
/// ```swift
/// let wait = RetryAfter.delay(retryAfter: "2", retryAfterMilliseconds: nil, nowUnixSeconds: now)
/// // .seconds(2)
/// ```
public enum RetryAfter {
    /// The longest delay ever returned: a day. Longer wishes are clamped to it, because every
    /// caller treats anything beyond its own limit (seconds) alike and a clamp keeps the
    /// arithmetic on hostile values finite.
    public static let maximumDelay: Duration = .seconds(maximumDelaySeconds)

    private static let maximumDelaySeconds: Int64 = 86_400

    /// The delay an upstream asked for, or `nil` when it asked for none that can be understood.
    ///
    /// - Parameters:
    ///   - retryAfter: The `Retry-After` header's value: delta-seconds (`"120"`, leniently also
    ///     `"1.5"`) or an HTTP-date in IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), the obsolete
    ///     RFC 850 (`Wednesday, 21-Oct-15 07:28:00 GMT`) or asctime (`Wed Oct 21 07:28:00 2015`)
    ///     form.
    ///   - retryAfterMilliseconds: The `retry-after-ms` header's value, non-negative decimal
    ///     milliseconds; it takes precedence when valid.
    ///   - nowUnixSeconds: The current time in seconds since 1970-01-01T00:00:00Z, against which an
    ///     HTTP-date becomes a delay. A date in the past gives a zero delay.
    /// - Returns: A delay between zero and ``maximumDelay``, or `nil`.
    public static func delay(retryAfter: String?, retryAfterMilliseconds: String?, nowUnixSeconds: Int64) -> Duration? {
        if let milliseconds = retryAfterMilliseconds, let delay = decimal(milliseconds, unitNanoseconds: 1_000_000) {
            return delay
        }
        guard let retryAfter else { return nil }
        if let delay = decimal(retryAfter, unitNanoseconds: 1_000_000_000) {
            return delay
        }
        guard let date = HTTPDate.unixSeconds(retryAfter, nowUnixSeconds: nowUnixSeconds) else { return nil }
        // Parsed dates lie within a few thousand years of 1970, so the difference overflows only for
        // a `now` absurdly far in the past, which leaves the date absurdly far ahead.
        let (seconds, overflow) = date.subtractingReportingOverflow(nowUnixSeconds)
        if overflow { return maximumDelay }
        if seconds <= 0 { return .zero }
        return .seconds(min(seconds, maximumDelaySeconds))
    }

    /// Parses a non-negative decimal (`"12"`, `"1.5"`) in the given unit, clamped to ``maximumDelay``.
    ///
    /// Only ASCII digits with an optional fraction are accepted: signs, exponents, `inf` and `NaN`
    /// are not numbers an upstream has any business sending.
    private static func decimal(_ text: String, unitNanoseconds: Int64) -> Duration? {
        let bytes = Array(trimmed(text).utf8)
        guard !bytes.isEmpty else { return nil }
        let limit = maximumDelaySeconds * (1_000_000_000 / unitNanoseconds)
        var whole: Int64 = 0
        var index = 0
        var sawDigit = false
        var exceedsLimit = false
        while index < bytes.count, let digit = digitValue(bytes[index]) {
            sawDigit = true
            // Keep reading digits after the limit to reject trailing garbage, but stop growing.
            if !exceedsLimit {
                whole = whole * 10 + digit
                exceedsLimit = whole > limit
            }
            index += 1
        }
        guard sawDigit else { return nil }
        var fractionNanoseconds: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = unitNanoseconds
            var sawFractionDigit = false
            while index < bytes.count, let digit = digitValue(bytes[index]) {
                sawFractionDigit = true
                // Digits finer than a nanosecond are read and ignored.
                scale /= 10
                fractionNanoseconds += digit * scale
                index += 1
            }
            guard sawFractionDigit else { return nil }
        }
        guard index == bytes.count else { return nil }
        if exceedsLimit { return maximumDelay }
        let delay = Duration.nanoseconds(whole * unitNanoseconds + fractionNanoseconds)
        return min(delay, maximumDelay)
    }

    private static func digitValue(_ byte: UInt8) -> Int64? {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        return Int64(byte - UInt8(ascii: "0"))
    }

    /// The value without the optional whitespace HTTP allows around it.
    private static func trimmed(_ text: String) -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isWhitespace($0) }),
            let last = text.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return text[first...last]
    }

    /// The three date forms HTTP recipients must accept (RFC 9110 §5.6.7), as Unix seconds.
    private enum HTTPDate {
        /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range four-digit years can name.
        static let earliestUnixSeconds: Int64 = -62_167_219_200
        static let latestUnixSeconds: Int64 = 253_402_300_799

        private static let shortDayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        private static let longDayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

        static func unixSeconds(_ text: String, nowUnixSeconds: Int64) -> Int64? {
            // Splitting on runs of spaces also absorbs asctime's padding of one-digit days.
            let fields = trimmed(text).split(separator: " ").map { $0.lowercased() }
            switch fields.count {
            case 6:
                // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
                guard fields[0].hasSuffix(","), shortDayNames.contains(String(fields[0].dropLast())), fields[5] == "gmt",
                    fields[1].count == 2, let day = number(fields[1]),
                    let month = month(fields[2]),
                    fields[3].count == 4, let year = number(fields[3])
                else { return nil }
                return instant(year: year, month: month, day: day, time: fields[4])
            case 4:
                // RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`.
                guard fields[0].hasSuffix(","), longDayNames.contains(String(fields[0].dropLast())), fields[3] == "gmt"
                else { return nil }
                let date = fields[1].split(separator: "-", omittingEmptySubsequences: false)
                guard date.count == 3, date[0].count == 2, let day = number(date[0]),
                    let month = month(date[1]),
                    date[2].count == 2, let twoDigitYear = number(date[2])
                else { return nil }
                let year = fullYear(twoDigitYear, nowUnixSeconds: nowUnixSeconds)
                return instant(year: year, month: month, day: day, time: fields[2])
            case 5:
                // asctime: `Sun Nov  6 08:49:37 1994`.
                guard shortDayNames.contains(fields[0]), let month = month(fields[1]),
                    (1...2).contains(fields[2].count), let day = number(fields[2]),
                    fields[4].count == 4, let year = number(fields[4])
                else { return nil }
                return instant(year: year, month: month, day: day, time: fields[3])
            default:
                return nil
            }
        }

        /// RFC 9110: a two-digit year that would lie more than 50 years in the future means the
        /// most recent past year with those last two digits.
        private static func fullYear(_ twoDigitYear: Int64, nowUnixSeconds: Int64) -> Int64 {
            let clampedNow = min(max(nowUnixSeconds, earliestUnixSeconds), latestUnixSeconds)
            let currentYear = civilYear(daysSince1970: floorDivide(clampedNow, 86_400))
            var year = currentYear - currentYear % 100 + twoDigitYear
            if year > currentYear + 50 { year -= 100 }
            if year + 100 <= currentYear + 50 { year += 100 }
            return year
        }

        /// Seconds since 1970 of a validated date and `hh:mm:ss` time, or nil if either is impossible.
        private static func instant(year: Int64, month: Int64, day: Int64, time: String) -> Int64? {
            let parts = time.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ $0.count == 2 }),
                let hour = number(parts[0]), let minute = number(parts[1]), let second = number(parts[2]),
                hour < 24, minute < 60, second <= 60,  // 60: a leap second, which reads as the next minute
                day >= 1, day <= daysInMonth(month, year: year)
            else { return nil }
            return daysSince1970(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
        }

        private static func month(_ name: some StringProtocol) -> Int64? {
            monthNames.firstIndex(where: { $0 == name }).map { Int64($0) + 1 }
        }

        /// A run of ASCII digits (callers bound its length), or nil.
        private static func number(_ text: some StringProtocol) -> Int64? {
            guard !text.isEmpty else { return nil }
            var value: Int64 = 0
            for byte in text.utf8 {
                guard let digit = digitValue(byte) else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        private static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
            switch month {
            case 2:
                let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
                return isLeap ? 29 : 28
            case 4, 6, 9, 11:
                return 30
            default:
                return 31
            }
        }

        /// Days from 1970-01-01 to a proleptic Gregorian date.
        ///
        /// Counts in 400-year eras starting on 1 March, so that the leap day falls at the end of
        /// each counted year and the month lengths follow a linear formula.
        private static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
            let marchBasedYear = month <= 2 ? year - 1 : year
            let era = floorDivide(marchBasedYear, 400)
            let yearOfEra = marchBasedYear - era * 400  // 0...399
            let marchBasedMonth = month > 2 ? month - 3 : month + 9  // March is 0
            let dayOfYear = (153 * marchBasedMonth + 2) / 5 + day - 1  // 0...365
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear  // 0...146096
            // 719468 days separate 0000-03-01, where era 0 starts, from 1970-01-01.
            return era * 146_097 + dayOfEra - 719_468
        }

        /// The year of the day `daysSince1970`, the inverse of ``daysSince1970(year:month:day:)``.
        private static func civilYear(daysSince1970 days: Int64) -> Int64 {
            let shifted = days + 719_468
            let era = floorDivide(shifted, 146_097)
            let dayOfEra = shifted - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let marchBasedMonth = (5 * dayOfYear + 2) / 153
            // January and February belong to the March-based year before.
            return yearOfEra + era * 400 + (marchBasedMonth >= 10 ? 1 : 0)
        }

        private static func floorDivide(_ dividend: Int64, _ divisor: Int64) -> Int64 {
            let quotient = dividend / divisor
            return dividend % divisor < 0 ? quotient - 1 : quotient
        }
    }
}
