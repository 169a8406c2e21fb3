import Testing

@testable import MultiProdigyCore

@Suite struct RetryAfterTests {
    /// One header pair and the delay it must read as.
    struct Row: Sendable, CustomTestStringConvertible {
        var retryAfter: String?
        var milliseconds: String?
        var now: Int64
        var expected: Duration?
        var testDescription: String {
            "Retry-After: \(retryAfter ?? "-"), retry-after-ms: \(milliseconds ?? "-"), now \(now)"
        }

        init(_ retryAfter: String?, ms milliseconds: String? = nil, now: Int64 = RetryAfterTests.october21, _ expected: Duration?) {
            self.retryAfter = retryAfter
            self.milliseconds = milliseconds
            self.now = now
            self.expected = expected
        }
    }

    /// Wed, 21 Oct 2015 07:28:00 GMT.
    static let october21: Int64 = 1_445_412_480
    static let day = Duration.seconds(86_400)

    static let deltaSeconds: [Row] = [
        Row("120", .seconds(120)),
        Row("0", .zero),
        Row("007", .seconds(7)),
        Row(" 7 ", .seconds(7)),
        Row("\t3", .seconds(3)),
        Row("1.5", .milliseconds(1_500)),
        Row("0.001", .milliseconds(1)),
        Row("2.000000001", .nanoseconds(2_000_000_001)),
        Row("1.0000000009", .seconds(1)),
        Row("86400", day),
        Row("86401", day),
        Row("86400.5", day),
        Row("999999999999999999999999999999999999", day),
        Row("-1", nil),
        Row("-0", nil),
        Row("+1", nil),
        Row("", nil),
        Row("   ", nil),
        Row("abc", nil),
        Row("NaN", nil),
        Row("nan", nil),
        Row("inf", nil),
        Row("Infinity", nil),
        Row("1e3", nil),
        Row("0x10", nil),
        Row("1.", nil),
        Row(".5", nil),
        Row("1.2.3", nil),
        Row("1,5", nil),
        Row("12s", nil),
        Row("1 2", nil),
        Row("９", nil),
        Row("🙂", nil),
        Row("999999999999999999999999999999999999x", nil),
        Row(nil, nil),
    ]

    static let millisecondHeader: [Row] = [
        Row(nil, ms: "1500", .milliseconds(1_500)),
        Row(nil, ms: "0", .zero),
        Row(nil, ms: "20.5", .microseconds(20_500)),
        Row(nil, ms: "0.000001", .nanoseconds(1)),
        Row(nil, ms: " 250 ", .milliseconds(250)),
        Row(nil, ms: "86400000", day),
        Row(nil, ms: "86400001", day),
        Row(nil, ms: "10000000000000000000000000000000000000000", day),
        Row(nil, ms: "-5", nil),
        Row(nil, ms: "NaN", nil),
        Row(nil, ms: "", nil),
        // The finer header wins over Retry-After, even over a longer or a date one.
        Row("120", ms: "250", .milliseconds(250)),
        Row("0", ms: "250", .milliseconds(250)),
        Row("Wed, 21 Oct 2015 07:29:00 GMT", ms: "250", .milliseconds(250)),
        Row("garbage", ms: "250", .milliseconds(250)),
        // An unusable millisecond header falls back to Retry-After.
        Row("120", ms: "-5", .seconds(120)),
        Row("120", ms: "garbage", .seconds(120)),
        Row("120", ms: "", .seconds(120)),
        Row("120", ms: "1.", .seconds(120)),
        Row("Wed, 21 Oct 2015 07:29:00 GMT", ms: "soon", .seconds(60)),
        Row("garbage", ms: "garbage", nil),
    ]

    static let httpDates: [Row] = [
        // IMF-fixdate.
        Row("Wed, 21 Oct 2015 07:28:00 GMT", .zero),
        Row("Wed, 21 Oct 2015 07:28:30 GMT", .seconds(30)),
        Row("Wed, 21 Oct 2015 08:28:00 GMT", .seconds(3_600)),
        Row("Thu, 22 Oct 2015 07:28:00 GMT", day),
        Row("Thu, 22 Oct 2015 07:28:01 GMT", day),
        Row("Fri, 31 Dec 9999 23:59:59 GMT", day),
        Row("  Wed, 21 Oct 2015 07:28:05 GMT  ", .seconds(5)),
        Row("wed, 21 oct 2015 07:29:00 gmt", .seconds(60)),
        Row("WED, 21 OCT 2015 07:29:00 GMT", .seconds(60)),
        // The day name is not checked against the date: the date is what matters.
        Row("Mon, 21 Oct 2015 07:28:10 GMT", .seconds(10)),
        // Dates in the past mean "now".
        Row("Wed, 21 Oct 2015 07:27:59 GMT", .zero),
        Row("Tue, 20 Oct 2015 07:28:00 GMT", .zero),
        Row("Thu, 01 Jan 1970 00:00:00 GMT", .zero),
        Row("Sat, 01 Jan 0000 00:00:00 GMT", .zero),
        // RFC 850 and asctime.
        Row("Wednesday, 21-Oct-15 07:28:10 GMT", .seconds(10)),
        Row("Wed Oct 21 07:28:20 2015", .seconds(20)),
        Row("Sun, 06 Nov 1994 08:49:40 GMT", now: 784_111_777, .seconds(3)),
        Row("Sunday, 06-Nov-94 08:49:40 GMT", now: 784_111_777, .seconds(3)),
        Row("Sun Nov  6 08:49:40 1994", now: 784_111_777, .seconds(3)),
        Row("Sun Nov 6 08:49:40 1994", now: 784_111_777, .seconds(3)),
        Row("Sun Nov 06 08:49:40 1994", now: 784_111_777, .seconds(3)),
        // Calendar arithmetic: leap days (including the 400-year rule), year ends, before 1970.
        Row("Mon, 29 Feb 2016 00:00:00 GMT", now: 1_456_703_995, .seconds(5)),
        Row("Tue, 29 Feb 2000 00:00:00 GMT", now: 951_782_395, .seconds(5)),
        Row("Fri, 01 Jan 2016 00:00:00 GMT", now: 1_451_606_399, .seconds(1)),
        Row("Tue, 19 Jan 2038 03:14:08 GMT", now: 2_147_483_640, .seconds(8)),
        Row("Mon, 01 Mar 2100 00:00:00 GMT", now: 4_107_542_390, .seconds(10)),
        Row("Wed, 31 Dec 1969 23:59:59 GMT", now: -3, .seconds(2)),
        Row("Thu, 01 Mar 1900 00:00:00 GMT", now: -2_203_891_207, .seconds(7)),
        Row("Mon, 01 Jan 0001 00:00:00 GMT", now: -62_135_596_804, .seconds(4)),
        Row("Fri, 31 Dec 9999 23:59:59 GMT", now: 253_402_300_789, .seconds(10)),
        // A leap second reads as the next minute's start.
        Row("Thu, 31 Dec 2015 23:59:60 GMT", now: 1_451_606_390, .seconds(10)),
        // Extreme clocks never overflow.
        Row("Wed, 21 Oct 2015 07:28:00 GMT", now: .max, .zero),
        Row("Wed, 21 Oct 2015 07:28:00 GMT", now: .min, day),
        Row("Wednesday, 21-Oct-15 07:28:00 GMT", now: .max, .zero),
        Row("Wednesday, 21-Oct-15 07:28:00 GMT", now: .min, day),
    ]

    /// RFC 9110: a two-digit year more than 50 years ahead means the last century.
    static let twoDigitYears: [Row] = [
        // In 2015, "65" is 2065 (50 years ahead) and "66" is 1966.
        Row("Thursday, 01-Jan-65 00:00:00 GMT", day),
        Row("Friday, 01-Jan-66 00:00:00 GMT", .zero),
        Row("Thursday, 01-Jan-70 00:00:00 GMT", .zero),
        // On New Year's Day 2015 the current year is already 2015, not 2014 (where "65" would be 1965).
        Row("Thursday, 01-Jan-65 00:00:00 GMT", now: 1_420_070_400, day),
        Row("Thursday, 01-Jan-15 00:00:05 GMT", now: 1_420_070_400, .seconds(5)),
        // In 2099, "01" is 2101, not 2001.
        Row("Saturday, 01-Jan-01 00:00:00 GMT", now: 4_083_955_200, day),
        Row("Monday, 01-Jun-99 00:00:09 GMT", now: 4_083_955_200, .seconds(9)),
    ]

    static let malformedDates: [Row] = [
        Row("Wed, 32 Oct 2015 07:28:00 GMT", nil),
        Row("Wed, 00 Oct 2015 07:28:00 GMT", nil),
        Row("Thu, 31 Sep 2015 07:28:00 GMT", nil),
        Row("Sun, 29 Feb 2015 00:00:00 GMT", nil),
        Row("Mon, 29 Feb 2100 00:00:00 GMT", nil),
        Row("Wed, 21 Foo 2015 07:28:00 GMT", nil),
        Row("Wed, 21 Oct 2015 24:00:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:60:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:28:61 GMT", nil),
        Row("Wed, 21 Oct 2015 7:28:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:28 GMT", nil),
        Row("Wed, 21 Oct 2015 07:28:00:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:-8:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:28:00 PST", nil),
        Row("Wed, 21 Oct 2015 07:28:00 +0000", nil),
        Row("Wed 21 Oct 2015 07:28:00 GMT", nil),
        Row("Xyz, 21 Oct 2015 07:28:00 GMT", nil),
        Row("Wednesday, 21 Oct 2015 07:28:00 GMT", nil),
        Row("Wed, 21 Oct 15 07:28:00 GMT", nil),
        Row("Wed, 21 Oct 20150 07:28:00 GMT", nil),
        Row("Wed, 1 Oct 2015 07:28:00 GMT", nil),
        Row("Wed, 21 Oct 2015 07:28:00 GMT extra", nil),
        Row("Wed, 21 Oct", nil),
        Row("Wed, -1 Oct 2015 07:28:00 GMT", nil),
        Row("Wed, 21 Oct -015 07:28:00 GMT", nil),
        Row("Wednesday, 21-Oct-2015 07:28:00 GMT", nil),
        Row("Wednesday, 21-Oct-15 07:28:00 UTC", nil),
        Row("Wed, 21-Oct-15 07:28:00 GMT", nil),
        Row("Wednesday, 21--15 07:28:00 GMT", nil),
        Row("Wed Oct 21 07:28:00 15", nil),
        Row("Wed Oct 123 07:28:00 2015", nil),
        Row("Wed Foo 21 07:28:00 2015", nil),
        Row("Wednesday Oct 21 07:28:00 2015", nil),
        Row(", , , , ,", nil),
        Row("::::::", nil),
    ]

    @Test(arguments: deltaSeconds) func deltaSecondsAreReadLenientlyAndClampedToADay(row: Row) {
        #expect(
            RetryAfter.delay(retryAfter: row.retryAfter, retryAfterMilliseconds: row.milliseconds, nowUnixSeconds: row.now) == row.expected
        )
    }

    @Test(arguments: millisecondHeader) func millisecondHeaderWinsWhenValidAndFallsBackOtherwise(row: Row) {
        #expect(
            RetryAfter.delay(retryAfter: row.retryAfter, retryAfterMilliseconds: row.milliseconds, nowUnixSeconds: row.now) == row.expected
        )
    }

    @Test(arguments: httpDates) func httpDatesBecomeDelaysFromNow(row: Row) {
        #expect(
            RetryAfter.delay(retryAfter: row.retryAfter, retryAfterMilliseconds: row.milliseconds, nowUnixSeconds: row.now) == row.expected
        )
    }

    @Test(arguments: twoDigitYears) func twoDigitYearsResolveToWithinFiftyYearsAhead(row: Row) {
        #expect(
            RetryAfter.delay(retryAfter: row.retryAfter, retryAfterMilliseconds: row.milliseconds, nowUnixSeconds: row.now) == row.expected
        )
    }

    @Test(arguments: malformedDates) func malformedDatesReadAsNoWish(row: Row) {
        #expect(
            RetryAfter.delay(retryAfter: row.retryAfter, retryAfterMilliseconds: row.milliseconds, nowUnixSeconds: row.now) == row.expected
        )
    }

    @Test func everyDayOfFourHundredYearsRoundTrips() {
        // Walks the calendar day by day from 1900 (a full Gregorian cycle, with every leap rule) and
        // checks that each date, asked for one second after the previous midnight, lies a day away.
        let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var midnight: Int64 = -2_208_988_800  // Mon, 01 Jan 1900 00:00:00 GMT
        var mismatches: [String] = []
        for year in 1900..<2300 {
            let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let lengths = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            for (month, length) in lengths.enumerated() {
                for day in 1...length {
                    let paddedDay = day < 10 ? "0\(day)" : "\(day)"
                    let header = "Mon, \(paddedDay) \(monthNames[month]) \(year) 00:00:09 GMT"
                    let delay = RetryAfter.delay(retryAfter: header, retryAfterMilliseconds: nil, nowUnixSeconds: midnight)
                    if delay != .seconds(9) { mismatches.append(header) }
                    midnight += 86_400
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(midnight == 10_413_792_000)  // Mon, 01 Jan 2300 00:00:00 GMT
    }

    @Test func hostileInputNeverCrashesAndStaysWithinADay() {
        let inputs = [
            String(repeating: "9", count: 10_000),
            String(repeating: "9", count: 5_000) + "." + String(repeating: "9", count: 5_000),
            "0." + String(repeating: "9", count: 10_000),
            String(repeating: " ", count: 10_000),
            String(repeating: "Wed, ", count: 2_000),
            "Wed, 99 Oct 9999999999999999999999 99:99:99 GMT",
            "Wednesday, 99-Oct-99999999999999999999 07:28:00 GMT",
            "\u{0}", "\r\n", "-9223372036854775808", "9223372036854775808", "18446744073709551616",
        ]
        for input in inputs {
            for now in [Int64.min, -1, 0, Self.october21, Int64.max] {
                for delay in [
                    RetryAfter.delay(retryAfter: input, retryAfterMilliseconds: nil, nowUnixSeconds: now),
                    RetryAfter.delay(retryAfter: nil, retryAfterMilliseconds: input, nowUnixSeconds: now),
                ] {
                    if let delay { #expect(delay >= .zero && delay <= RetryAfter.maximumDelay) }
                }
            }
        }
    }

    @Test func maximumDelayIsOneDay() {
        #expect(RetryAfter.maximumDelay == .seconds(86_400))
    }
}
