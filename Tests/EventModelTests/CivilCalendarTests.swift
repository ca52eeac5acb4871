import XCTest
import EventModel

/// The one calendar conversion the header, the seek parser and the simulator's timestamps share.
final class CivilCalendarTests: XCTestCase {
    func testKnownDates() {
        XCTAssertTrue(CivilCalendar.date(days: 0) == (1970, 1, 1))
        XCTAssertTrue(CivilCalendar.date(days: -1) == (1969, 12, 31))
        XCTAssertTrue(CivilCalendar.date(days: 20_000) == (2024, 10, 4))
        XCTAssertEqual(CivilCalendar.days(year: 2000, month: 2, day: 29), 11_016)
        XCTAssertEqual(CivilCalendar.floorDiv(-1, 86_400), -1)
        XCTAssertEqual(CivilCalendar.floorDiv(86_399, 86_400), 0)
    }

    func testEveryDayRoundTrips() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (y, m, d) = CivilCalendar.date(days: days)
            XCTAssertTrue((1...12).contains(m) && (1...31).contains(d), "\(days): \(y)-\(m)-\(d)")
            XCTAssertEqual(CivilCalendar.days(year: y, month: m, day: d), days)
        }
    }
}
