import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` header of responses (RFC 9110 §5.6.7, IMF-fixdate), formatted once a second.
///
/// Each connection keeps its own, so no lock is taken; formatting is plain arithmetic, without
/// Foundation's calendars (which load ICU).
struct HTTPDateHeader {
    private var second = Int.min
    private var formatted = ""

    /// The header's value for the current second.
    mutating func current() -> String {
        var now = timespec()
        #if canImport(Glibc)
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        #else
        clock_gettime(CLOCK_REALTIME, &now)
        #endif
        let second = Int(now.tv_sec)
        if second != self.second {
            self.second = second
            formatted = Self.format(epochSeconds: second)
        }
        return formatted
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `epochSeconds` (seconds since 1970-01-01 00:00 UTC) as an IMF-fixdate:
    /// `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(epochSeconds: Int) -> String {
        let (days, secondOfDay) = epochSeconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        // 1970-01-01 was a Thursday.
        let weekday = ((day % 7) + 11) % 7
        let (year, month, dayOfMonth) = civilDate(daysSinceEpoch: day)
        var text = weekdays[weekday] + ", "
        text += twoDigits(dayOfMonth) + " " + months[month - 1] + " " + String(year) + " "
        text += twoDigits(second / 3600) + ":" + twoDigits(second / 60 % 60) + ":" + twoDigits(second % 60) + " GMT"
        return text
    }

    /// The proleptic Gregorian date `days` after 1970-01-01: year, month 1–12, day 1–31.
    ///
    /// Counts in 400-year eras from 0000-03-01, so that the leap day ends each year.
    private static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }
}
