@testable import EmbeddedStore
import EventModel
import Foundation
import GRDB
import XCTest

/// A correlation index write that rolls back must not leave this process's id caches pointing at ids
/// SQLite gives to the next rows; and batches merged into one transaction keep their positions right.
final class IndexRollbackTests: StoreTestCase {
    func entry(_ id: String, offset: Int64) -> CorrelationIndex.Entry {
        CorrelationIndex.Entry(topic: "orders", partition: 0, offset: offset, correlationID: id, timestampMillis: 1_000 + offset,
                               eventType: "OrderPlaced")
    }

    func testAWriteThatRollsBackLeavesNoCachedIDBehind() async throws {
        let index = try CorrelationIndex(path: path("index.db"))
        try await index.apply([entry("kept", offset: 0)], moves: [:])
        // A full disk for the next write: `lost` gets an id in it, then the transaction rolls back.
        try await index.file.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let big = (1...2_000).map { entry("lost-\($0 % 3 == 0 ? "x" : String($0))", offset: Int64($0)) }
        do {
            try await index.apply(big, moves: [:])
            XCTFail("the write fitted in a full file")
        } catch {}
        try await index.file.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        // The next new saga gets the id the rolled-back one had; then the rolled-back saga comes again.
        try await index.apply([entry("other", offset: 5_000), entry("lost-1", offset: 5_001)], moves: [:])
        let lost = try await index.records(correlationID: "lost-1")
        XCTAssertEqual(lost.map(\.offset), [5_001], "counted under its own saga, not under the one that took its id")
        let other = try await index.records(correlationID: "other")
        XCTAssertEqual(other.map(\.offset), [5_000])
        let sagas = try await index.file.read { db in try Row.fetchAll(db, sql: "SELECT correlation_id, records FROM index_sagas ORDER BY correlation_id") }
        XCTAssertEqual(sagas.map { $0[0] as String }, ["kept", "lost-1", "other"])
        XCTAssertEqual(sagas.map { $0[1] as Int }, [1, 1, 1])
    }

    func testMovesMergedInOneTransactionKeepTheFurthestPositionAndTheLastTime() {
        let records = CorrelationIndex.Move(head: 10, headMillis: 500)
        let markers = CorrelationIndex.Move(head: 12)  // a later batch that moved the head over markers only
        let merged = records.then(markers)
        XCTAssertEqual(merged.head, 12)
        XCTAssertEqual(merged.headMillis, 500, "the markers carry no time: the records' stays")
        XCTAssertEqual(CorrelationIndex.Move(head: 12, headMillis: 600).then(CorrelationIndex.Move(head: 11, headMillis: 700)).head, 12)
        XCTAssertEqual(CorrelationIndex.Move(tail: 40).then(CorrelationIndex.Move(tail: 20)).tail, 20)
        XCTAssertNil(CorrelationIndex.Move(head: 3).then(CorrelationIndex.Move(head: 4)).tail)
    }
}
