@testable import EmbeddedStore
import XCTest

/// The bounded cache of lately used entries (the correlation index's saga ids).
final class RecentCacheTests: XCTestCase {
    func testEntriesUsedLatelyStayAndTheRestGoWithinTwoGenerations() {
        var cache = RecentCache<String, Int>(generation: 2)
        cache.insert("a", 1)
        cache.insert("b", 2)
        cache.insert("c", 3)  // the newer generation was full: a and b are the older one now
        XCTAssertEqual(cache.value("a"), 1, "found in the older generation, and moved to the newer")
        cache.insert("d", 4)  // newer (c, a) full: it becomes the older; b goes
        XCTAssertNil(cache.value("b"))
        XCTAssertEqual(cache.value("c"), 3)
        XCTAssertEqual(cache.value("a"), 1)
        XCTAssertEqual(cache.value("d"), 4)
        for i in 0..<1_000 {
            cache.insert("k\(i)", i)
            XCTAssertLessThanOrEqual(cache.count, 4)
        }
        XCTAssertEqual(cache.value("k999"), 999)
        XCTAssertEqual(cache.value("k998"), 998)
        XCTAssertNil(cache.value("k0"))
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        XCTAssertNil(cache.value("k999"))
    }
}
