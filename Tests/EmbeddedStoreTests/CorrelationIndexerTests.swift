@testable import EmbeddedStore
import EventModel
import Foundation
import GRDB
import XCTest

/// The indexer's cold start (newest first, then backwards), its pure planning, and the index's layout.
final class CorrelationIndexerTests: StoreTestCase {
    func event(_ i: Int, partition: Int32 = 0) -> OutgoingRecord {
        record("orders", partition: partition, key: "k\(i)", value: #"{"type":"E\#(i % 3)","correlationId":"ord-\#(i)"}"#,
               ts: 1_700_000_000_000 + Int64(i))
    }

    func testColdStartIndexesTheNewestRecordsFirstThenFillsInBackwards() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 2)
        try await log.produce((0..<2_500).map { event($0) })
        let index = try CorrelationIndex(path: log.path)
        // recentFirst 1: the window is its floor, 1,000 records per partition.
        let indexer = CorrelationIndexer(log: log, index: index, rules: .default, maxRecordsPerTick: 1_000, recentFirst: 1)

        let first = try await indexer.catchUp()
        XCTAssertEqual(first.read, 1_000)
        XCTAssertEqual(first.remaining, 0, "the head is indexed first")
        XCTAssertEqual(first.backfill, 1_500)
        XCTAssertTrue(first.shouldContinue)
        let newest = try await index.records(correlationID: "ord-2499")
        XCTAssertEqual(newest.map(\.offset), [2_499])
        let oldest = try await index.records(correlationID: "ord-0")
        XCTAssertEqual(oldest, [], "the oldest records wait for the backfill")

        // New records arriving while older ones wait go first; the rest of the budget fills backwards.
        try await log.produce((2_500..<2_510).map { event($0) })
        let second = try await indexer.catchUp()
        XCTAssertEqual(second.read, 1_000)
        XCTAssertEqual(second.remaining, 0)
        XCTAssertEqual(second.backfill, 1_500 - 990)
        let arrived = try await index.records(correlationID: "ord-2509")
        XCTAssertEqual(arrived.count, 1)
        let middle = try await index.records(correlationID: "ord-600")
        XCTAssertEqual(middle.count, 1, "backfill takes the newest of the older records first")
        let notYet = try await index.records(correlationID: "ord-509")
        XCTAssertEqual(notYet, [])

        try await indexer.catchUpFully()
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 2_510)
        let done = try await indexer.catchUp()
        XCTAssertEqual(done, .init(read: 0, indexed: 0, remaining: 0, backfill: 0))
        XCTAssertFalse(done.shouldContinue)
        let coverage = try await index.coverage()
        XCTAssertEqual(coverage[TopicPartition("orders", 0)].map { [$0.tail, $0.head] }, [0, 2_510])
        // Each saga's summary spans every record, whichever pass found it.
        let recent = try await index.recentCorrelations(limit: 1)
        XCTAssertEqual(recent.first?.correlationID, "ord-2509")
    }

    func testBackfillSurvivesAReopenAndNeverIndexesARecordTwice() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 1)
        // Every record of one saga: its count says whether any was indexed twice.
        try await log.produce((0..<3_000).map { i in
            record("orders", partition: 0, value: #"{"type":"Step","correlationId":"one"}"#, ts: 1_700_000_000_000 + Int64(i))
        })
        let index = try CorrelationIndex(path: log.path)
        try await CorrelationIndexer(log: log, index: index, rules: .default, maxRecordsPerTick: 1_200, recentFirst: 1).catchUp()
        let reopened = try CorrelationIndex(path: log.path)
        let indexer = CorrelationIndexer(log: log, index: reopened, rules: .default, maxRecordsPerTick: 700, recentFirst: 1)
        try await indexer.catchUpFully()
        let summary = try await reopened.recentCorrelations(limit: 5)
        XCTAssertEqual(summary.map(\.records), [3_000])
        XCTAssertEqual(summary.map(\.firstMillis), [1_700_000_000_000])
        let refs = try await reopened.records(correlationID: "one")
        XCTAssertEqual(Set(refs.map(\.offset)).count, 3_000)
    }

    func testPlanStartsNewPartitionsAtTheirNewestWindowAndRestartsOnesRetentionOvertook() {
        let snapshot = BrokerSnapshot(time: Date(timeIntervalSince1970: 0), topics: [
            TopicInfo(name: "t", partitions: [
                PartitionWatermarks(partition: 0, low: 0, high: 10_000),
                PartitionWatermarks(partition: 1, low: 5_000, high: 6_000),
                PartitionWatermarks(partition: 2, low: 100, high: 400),
            ]),
        ], groups: [])
        let coverage: [TopicPartition: CorrelationIndex.Coverage] = [
            // Retention deleted everything this partition covered: it starts again.
            TopicPartition("t", 1): .init(tail: 0, head: 2_000, headMillis: nil),
            // Covered from 200 to 300: forward from 300, backwards from 200 down to the low watermark.
            TopicPartition("t", 2): .init(tail: 200, head: 300, headMillis: nil),
        ]
        let plan = CorrelationIndexer.plan(snapshot: snapshot, coverage: coverage, recentFirst: 3_000, budget: 500)
        XCTAssertEqual(plan.starts, [TopicPartition("t", 0): 9_000, TopicPartition("t", 1): 5_000])
        XCTAssertEqual(plan.forward, [ReadRange(TopicPartition("t", 0), from: 9_000, to: 10_000),
                                      ReadRange(TopicPartition("t", 1), from: 5_000, to: 6_000),
                                      ReadRange(TopicPartition("t", 2), from: 300, to: 400)])
        XCTAssertEqual(plan.backfill, [ReadRange(TopicPartition("t", 0), from: 0, to: 9_000),
                                       ReadRange(TopicPartition("t", 2), from: 100, to: 200)])
        XCTAssertEqual(plan.backfillRemaining, 9_100)
        // Oldest first (the command line): everything forward from the low watermark, nothing backwards.
        let whole = CorrelationIndexer.plan(snapshot: snapshot, coverage: [:], recentFirst: nil, budget: 500)
        XCTAssertEqual(whole.forward.map(\.from), [0, 5_000, 100])
        XCTAssertEqual(whole.backfill, [])
        // The backwards budget is shared, newest stretch of each range first.
        XCTAssertEqual(CorrelationIndexer.backfillRanges(plan.backfill, budget: 500),
                       [ReadRange(TopicPartition("t", 0), from: 8_750, to: 9_000), ReadRange(TopicPartition("t", 2), from: 100, to: 200)])
    }

    func testABatchCutShortGoesOnAfterItsLastRecordTaken() {
        func rec(_ p: Int32, _ o: Int64) -> EventModel.Record {
            EventModel.Record(topic: "t", partition: p, offset: o, timestampMillis: 0, key: nil, headers: [], value: [])
        }
        let a = TopicPartition("t", 0), b = TopicPartition("t", 1)
        let batch = BulkBatch(records: [rec(0, 10), rec(1, 50), rec(0, 11), rec(1, 51)], next: [a: 12, b: 52], finished: [a, b])
        let cut = CorrelationIndexer.cut(batch, budget: 3)
        XCTAssertEqual(cut.records.map(\.offset), [10, 50, 11])
        XCTAssertEqual(cut.next, [a: 12, b: 51], "b goes on at its first record not taken")
        XCTAssertEqual(cut.finished, [a])
        XCTAssertTrue(cut.cut)
        let whole = CorrelationIndexer.cut(batch, budget: 10)
        XCTAssertEqual(whole.records.count, 4)
        XCTAssertFalse(whole.cut)
    }

    func testAnIndexInTheSecondLayoutIsDroppedAndRebuilt() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 1)
        try await log.produce((0..<20).map { event($0) })
        try log.close()
        // The layout before (full timestamps, a second index by position), with a head that claims all 20,
        // as an older evtop leaves it when it opens a file this one wrote: this layout's entries stay beside
        // it (one here, whose saga id would now mean another saga).
        let queue = try DatabaseQueue(path: path())
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO index_refs(saga, dt, part, "offset", type) VALUES(1, 0, 1, 5, NULL);
                DROP TABLE index_sagas; DROP TABLE index_partitions;
                CREATE TABLE index_partitions(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, "partition" INTEGER NOT NULL,
                    tail INTEGER NOT NULL, head INTEGER NOT NULL, head_ms INTEGER, UNIQUE(topic, "partition"));
                INSERT INTO index_partitions VALUES(1, 'orders', 0, 0, 20, NULL);
                CREATE TABLE index_sagas(id INTEGER PRIMARY KEY AUTOINCREMENT, correlation_id TEXT NOT NULL UNIQUE,
                    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, records INTEGER NOT NULL, last_type INTEGER);
                CREATE TABLE index_records(saga INTEGER NOT NULL, ms INTEGER NOT NULL, part INTEGER NOT NULL,
                    "offset" INTEGER NOT NULL, type INTEGER, PRIMARY KEY(saga, ms, part, "offset")) WITHOUT ROWID;
                CREATE INDEX index_records_by_position ON index_records(part, "offset");
                """)
        }
        try queue.close()
        let reopened = try SQLiteLog(path: path())
        let index = try CorrelationIndex(path: reopened.path)
        try await CorrelationIndexer(log: reopened, index: index, rules: .default).catchUpFully()
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 20, "rebuilt from the log, not trusting the old head")
        let reader = try DatabaseQueue(path: reopened.path)
        let old = try await reader.read { db in try db.tableExists("index_records") }
        XCTAssertFalse(old)
    }

    func testAnIndexInTheFirstLayoutIsDroppedAndRebuilt() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 1)
        try await log.produce((0..<20).map { event($0) })
        // The tables an earlier evtop wrote, with rows that would be wrong now.
        let queue = try DatabaseQueue(path: log.path)
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TABLE correlation_cursors(topic TEXT, partition INTEGER, next INTEGER);
                INSERT INTO correlation_cursors VALUES('orders', 0, 20);
                CREATE TABLE correlations(correlation_id TEXT PRIMARY KEY, records INTEGER);
                CREATE TABLE correlation_records(correlation_id TEXT, topic TEXT, partition INTEGER, offset INTEGER);
                """)
        }
        try queue.close()
        let index = try CorrelationIndex(path: log.path)
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 20, "rebuilt from the log, not trusting the old cursor")
        let reader = try DatabaseQueue(path: log.path)
        let old = try await reader.read { db in try db.tableExists("correlation_records") || db.tableExists("correlation_cursors") }
        XCTAssertFalse(old)
    }

    /// Issue 11's figure: at most 40 bytes a record, the blocks retention finds entries by position
    /// through included (the layout before, with a second index by position, took about 58).
    func testAnIndexTakesAtMostFortyBytesARecord() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 4)
        // Six records per saga, as a saga of a few steps across services writes them.
        try await log.produce((0..<60_000).map { i in
            record("orders", partition: Int32(i % 4), value: #"{"type":"Step\#(i % 6)","correlationId":"ord-\#(i / 6)"}"#,
                   ts: 1_700_000_000_000 + Int64(i))
        })
        let indexPath = path("index.db")
        let index = try CorrelationIndex(path: indexPath)
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        let reader = try DatabaseQueue(path: indexPath)
        let bytes = try await reader.read { db in
            try Int.fetchOne(db, sql: "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'index_%' OR name LIKE 'sqlite_autoindex_index_%'") ?? 0
        }
        let perRecord = Double(bytes) / 60_000
        print("correlation index: \(bytes) bytes for 60,000 records: \(String(format: "%.1f", perRecord)) bytes a record")
        XCTAssertGreaterThan(bytes, 0)
        XCTAssertLessThanOrEqual(perRecord, 40)
    }
}

/// The packed entries of `index_blocks`: what goes in comes out, whatever the offset within the block,
/// the saga's id or a time before the saga's base.
final class IndexBlockTests: XCTestCase {
    func testEntriesRoundTripAndAnUnreadableBlockIsAnError() throws {
        let block: Int64 = 7
        let base = block << CorrelationIndex.blockShift
        let first = [
            IndexBlock.Entry(offset: base, saga: 1, dt: 0),
            IndexBlock.Entry(offset: base + CorrelationIndex.blockSpan - 1, saga: 4_000_000_000, dt: -86_400_000),
            IndexBlock.Entry(offset: base + 5, saga: 9, dt: Int64.max),
        ]
        let second = [IndexBlock.Entry(offset: base + 6, saga: 2, dt: Int64.min)]
        var bytes: [UInt8] = []
        IndexBlock.appendChunk(first, to: &bytes)
        IndexBlock.appendChunk(second, to: &bytes)
        XCTAssertEqual(try IndexBlock.decode(bytes, block: block), first + second)
        XCTAssertThrowsError(try IndexBlock.decode(Array(bytes.dropLast()), block: block))
        // One entry whose offset step leaves the block.
        var outside: [UInt8] = [1]
        for v in [IndexBlock.zigzag(CorrelationIndex.blockSpan), IndexBlock.zigzag(1), 0] { Varint.append(v, to: &outside) }
        XCTAssertThrowsError(try IndexBlock.decode(outside, block: block), "an offset past the block's span")
    }

    /// Records in order, sagas interned in about that order: an entry takes a few bytes.
    func testAnEntryTakesAFewBytes() {
        let entries = (0..<128).map { (i: Int) -> IndexBlock.Entry in
            let n = Int64(i)
            let saga: Int64 = 300_000 + n / 6 + n % 3
            return IndexBlock.Entry(offset: 1_000_064 + n, saga: saga, dt: n % 6)
        }
        var bytes: [UInt8] = []
        IndexBlock.appendChunk(entries, to: &bytes)
        XCTAssertLessThanOrEqual(bytes.count, 128 * 4)
        XCTAssertEqual(try IndexBlock.decode(bytes, block: 1_000_064 >> CorrelationIndex.blockShift), entries)
    }
}
