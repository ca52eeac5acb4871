import EventModel
import Foundation
import XCTest

/// Where one step of record retention puts a partition's log start (pure).
final class RecordRetentionPolicyTests: XCTestCase {
    func front(_ low: Int64, _ timestamps: [Int64]) -> [(offset: Int64, timestampMillis: Int64)] {
        timestamps.enumerated().map { (low + Int64($0.offset), $0.element) }
    }

    func testCountLimitKeepsTheNewestAndStepsAtMostAChunk() {
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 0, high: 100, front: [], cutoffMillis: nil, maxRecords: 30, chunk: 1_000), 70)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 0, high: 100, front: [], cutoffMillis: nil, maxRecords: 30, chunk: 25), 25)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 70, high: 100, front: [], cutoffMillis: nil, maxRecords: 30, chunk: 25), 70)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 5, high: 5, front: [], cutoffMillis: nil, maxRecords: 0, chunk: 25), 5)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 5, high: 9, front: [], cutoffMillis: nil, maxRecords: 0, chunk: 25), 9)
    }

    func testAgeLimitStopsAtTheFirstRecordThatIsNotOlder() {
        let f = front(10, [1, 2, 50, 3, 4])
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 10, high: 15, front: f, cutoffMillis: 10, maxRecords: nil, chunk: 100), 12)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 10, high: 15, front: f, cutoffMillis: 51, maxRecords: nil, chunk: 100), 15)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 10, high: 15, front: f, cutoffMillis: 51, maxRecords: nil, chunk: 3), 13)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 10, high: 15, front: f, cutoffMillis: 1, maxRecords: nil, chunk: 100), 10)
        // A front that does not start at the log start (a gap) deletes nothing by age.
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 9, high: 15, front: f, cutoffMillis: 51, maxRecords: nil, chunk: 100), 9)
    }

    func testBothLimitsTakeTheFurther() {
        let f = front(0, [1, 1, 1, 9, 9, 9, 9, 9, 9, 9])
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 0, high: 10, front: f, cutoffMillis: 5, maxRecords: 8, chunk: 100), 3)
        XCTAssertEqual(RecordRetentionPolicy.newLow(low: 0, high: 10, front: f, cutoffMillis: 5, maxRecords: 5, chunk: 100), 5)
    }

    func testCutoffAndDefaults() {
        let now = Date(timeIntervalSince1970: 1_000)
        XCTAssertEqual(RecordRetentionPolicy(maxAge: 10, maxRecordsPerPartition: nil).cutoffMillis(now: now), 990_000)
        XCTAssertNil(RecordRetentionPolicy.off.cutoffMillis(now: now))
        XCTAssertFalse(RecordRetentionPolicy.off.isOn)
        XCTAssertTrue(RecordRetentionPolicy.standard.isOn)
    }
}
