import XCTest
@testable import KafkaLog

/// The browse consumer's "nothing to read" rule. librdkafka's mock cluster writes no transaction
/// markers, so the case it exists for (a partition ending in a commit marker on a real cluster)
/// is pinned here on the rule itself.
final class FetcherRuleTests: XCTestCase {
    func testCaughtUpAtTheHighWatermarkOrWhereThePartitionWasSeenToEnd() {
        XCTAssertTrue(KafkaFetcher.caughtUp(next: 3, high: 3, endSeen: nil))
        XCTAssertFalse(KafkaFetcher.caughtUp(next: 3, high: 4, endSeen: nil), "a record may be at 3")
        // Records 0–2, a commit marker at 3, high 4: librdkafka said EOF at 4 once; 3 holds nothing to read.
        XCTAssertTrue(KafkaFetcher.caughtUp(next: 3, high: 4, endSeen: 4))
        // New records after the marker: read them.
        XCTAssertFalse(KafkaFetcher.caughtUp(next: 3, high: 6, endSeen: 4))
        XCTAssertFalse(KafkaFetcher.caughtUp(next: 3, high: nil, endSeen: 4), "no figure yet: ask the broker")
    }
}
