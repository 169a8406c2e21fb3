import Foundation
import Testing

@testable import MultiProdigyServer

/// The `Date` header's IMF-fixdate, against dates worked out by hand.
@Suite struct HTTPDateHeaderTests {
    @Test(arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),  // RFC 9110's example
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),  // a leap day of a 400-year leap year
        (1_709_251_199, "Thu, 29 Feb 2024 23:59:59 GMT"),
        (1_709_251_200, "Fri, 01 Mar 2024 00:00:00 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),  // 2100 is not a leap year
        (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
    ])
    func formatsIMFFixdate(_ seconds: Int, _ expected: String) {
        #expect(HTTPDateHeader.format(epochSeconds: seconds) == expected)
    }

    @Test func theCurrentValueIsNowAsFoundationFormatsIt() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var header = HTTPDateHeader()
        let value = header.current()
        // The header reads a coarse clock, a few milliseconds behind Foundation's.
        let date = try #require(formatter.date(from: value))
        #expect(abs(date.timeIntervalSinceNow) < 2)
    }
}
