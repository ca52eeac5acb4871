import EmbeddedStore
import EventModel
import Foundation
import GRDB
import XCTest

/// Record retention on real store files: the oldest records of each partition go, the low watermark moves
/// with them, readers see a Kafka-like log start, and the correlation index forgets the deleted records.
final class RecordRetentionTests: StoreTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var nowMillis: Int64 { Int64(now.timeIntervalSince1970 * 1000) }

    func testCountLimitKeepsTheNewestOfEachPartitionInChunks() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 2)
        try await log.createTopic("orders.DLT", partitions: 1)
        // More than one chunk (5,000) on partition 0.
        for start in stride(from: 0, to: 12_000, by: 3_000) {
            try await log.produce((start..<start + 3_000).map { i in record("orders", partition: 0, value: "r\(i)", ts: nowMillis) })
        }
        try await log.produce((0..<10).map { _ in record("orders", partition: 1, ts: nowMillis) })
        try await log.produce((0..<3).map { _ in record("orders.DLT", partition: 0, ts: nowMillis) })
        try await log.commit(group: "g", member: "m", offsets: [TopicPartition("orders", 0): 500])

        let deleted = try await log.pruneRecords(RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: 1_000), now: now)
        XCTAssertEqual(deleted, 11_000)
        let snapshot = try await log.snapshot()
        let orders = try XCTUnwrap(snapshot.topics.first { $0.name == "orders" })
        XCTAssertEqual(orders.partitions, [PartitionWatermarks(partition: 0, low: 11_000, high: 12_000),
                                           PartitionWatermarks(partition: 1, low: 0, high: 10)])
        XCTAssertEqual(snapshot.topics.first { $0.name == "orders.DLT" }?.partitions.first,
                       PartitionWatermarks(partition: 0, low: 0, high: 3))
        XCTAssertEqual(try log.recordCount(), 1_013)
        // The rows are gone from the file, not only hidden by the watermark.
        let rows = try await DatabaseQueue(path: path()).read { db in
            try Int.fetchOne(db, sql: #"SELECT COUNT(*) FROM records WHERE topic = 'orders' AND "partition" = 0"#)
        }
        XCTAssertEqual(rows, 1_000)
        // A reader starting below the log start begins at it, as a Kafka consumer reset to earliest does.
        let first = try await log.fetch(topic: "orders", partition: 0, from: 0, maxRecords: 2)
        XCTAssertEqual(first.map(\.offset), [11_000, 11_001])
        XCTAssertEqual(first.first?.value, Array("r11000".utf8))
        // Lag still counts from the group's committed offset, as Kafka's does.
        XCTAssertEqual(snapshot.groups.first?.offsets[TopicPartition("orders", 0)], 500)
        // Offsets go on where they were; a second pass has nothing to do.
        let next = try await log.produce([record("orders", partition: 0, ts: nowMillis)])
        XCTAssertEqual(next.first?.offset, 12_000)
        let again = try await log.pruneRecords(RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: 1_001), now: now)
        XCTAssertEqual(again, 0)
    }

    func testAgeLimitDeletesFromTheFrontUpToTheFirstYoungerRecord() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("t", partitions: 1)
        let hour: Int64 = 3_600_000
        // Ages (hours): 50, 49, 48, 1, 47 (an old timestamp after a young one), 0.
        let ages: [Int64] = [50, 49, 48, 1, 47, 0]
        try await log.produce(ages.map { record("t", partition: 0, ts: nowMillis - $0 * hour) })
        let policy = RecordRetentionPolicy(maxAge: 24 * 3_600, maxRecordsPerPartition: nil)
        let deleted = try await log.pruneRecords(policy, now: now)
        XCTAssertEqual(deleted, 3)
        let info = try await log.watermarks(topic: "t")
        XCTAssertEqual(info.partitions.first, PartitionWatermarks(partition: 0, low: 3, high: 6))
        // Later, the young record ages out too, and the older one behind it goes with it.
        let later = try await log.pruneRecords(policy, now: now.addingTimeInterval(24 * 3_600))
        XCTAssertEqual(later, 2)
        let read = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 10)
        XCTAssertEqual(read.map(\.offset), [5])
        // Off keeps everything.
        let off = try await log.pruneRecords(.off, now: now.addingTimeInterval(1e7))
        XCTAssertEqual(off, 0)
    }

    func testPruningARecordsStoreOpenedReadOnlyIsRefused() async throws {
        let p = path()
        _ = try SQLiteLog(path: p)
        let reader = try SQLiteLog(path: p, mode: .readOnly)
        await assertThrows(StoreError.readOnly(p)) { try await reader.pruneRecords(.standard, now: self.now) }
    }

    func testTheCorrelationIndexForgetsDeletedRecordsAndTheirSagas() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("orders", partitions: 1)
        // Saga "old" has records 0–2; saga "both" has 3 and 8; saga "new" has 9.
        let ids = ["old", "old", "old", "both", "x", "x", "x", "x", "both", "new"]
        try await log.produce(ids.enumerated().map { i, id in
            record("orders", partition: 0, headers: [RecordHeader(name: "correlation-id", value: Array(id.utf8))], ts: nowMillis + Int64(i))
        })
        let index = try CorrelationIndex(path: p)
        let indexer = CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default)
        try await indexer.catchUpFully()
        let got1 = try await index.indexedRecordCount()
        XCTAssertEqual(got1, 10)

        // Four records a partition: 0–5 go.
        let deleted = try await log.pruneRecords(RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: 4), now: now)
        XCTAssertEqual(deleted, 6)
        let got2 = try await index.indexedRecordCount()
        XCTAssertEqual(got2, 4)
        let old = try await index.records(correlationID: "old")
        XCTAssertEqual(old, [])
        let both = try await index.records(correlationID: "both")
        XCTAssertEqual(both.map(\.offset), [8])
        let listed = try await index.recentCorrelations(limit: 10)
        XCTAssertEqual(Set(listed.map(\.correlationID)), ["both", "x", "new"])
        XCTAssertEqual(listed.first { $0.correlationID == "both" }?.records, 1)
        XCTAssertEqual(listed.first { $0.correlationID == "both" }?.firstMillis, nowMillis + 8)
        XCTAssertEqual(listed.first { $0.correlationID == "x" }?.records, 2)
        let completions = try await index.correlationIDs(prefix: "o", limit: 10)
        XCTAssertEqual(completions, [])
        let coverage = try await index.coverage()
        XCTAssertEqual(coverage[TopicPartition("orders", 0)], CorrelationIndex.Coverage(tail: 6, head: 10, headMillis: nowMillis + 9))

        // A saga dropped by retention that gets a new record (a redriven letter) is found again, also by
        // the index that cached its id before it was dropped.
        try await log.produce([record("orders", partition: 0, headers: [RecordHeader(name: "correlation-id", value: Array("old".utf8))],
                                      ts: nowMillis + 20)])
        try await indexer.catchUpFully()
        let revived = try await index.records(correlationID: "old")
        XCTAssertEqual(revived.map(\.offset), [10])
        let relisted = try await index.recentCorrelations(limit: 1)
        XCTAssertEqual(relisted.map(\.correlationID), ["old"])
        XCTAssertEqual(relisted.first?.records, 1)
    }

    func testDeleteRecordsDropsIndexEntriesToo() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 1)
        try await log.produce((0..<5).map { i in
            record("t", partition: 0, headers: [RecordHeader(name: "correlation-id", value: Array("c\(i)".utf8))], ts: nowMillis)
        })
        let index = try CorrelationIndex(path: p)
        try await CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default).catchUpFully()
        try await log.deleteRecords(topic: "t", partition: 0, before: 3)
        let got3 = try await index.indexedRecordCount()
        XCTAssertEqual(got3, 2)
        let ids = try await index.recentCorrelations(limit: 10).map(\.correlationID).sorted()
        XCTAssertEqual(ids, ["c3", "c4"])
    }

    /// A log whose retention runs elsewhere (Kafka: the broker's): the indexer drops the entries of records
    /// below the log start it is shown, in its own index file.
    func testTheIndexerTrimsAnIndexFileWhenTheLogStartMoves() async throws {
        let log = InMemoryLog()
        try await log.createTopic("k", partitions: 1)
        _ = try await log.produce((0..<8).map { i in
            OutgoingRecord(topic: "k", partition: 0, timestampMillis: nowMillis, key: nil,
                           headers: [RecordHeader(name: "correlation-id", value: Array("s\(i % 4)".utf8))], value: [1])
        })
        let index = try CorrelationIndex(path: path("kafka.index"))
        let indexer = CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default)
        try await indexer.catchUpFully()
        let got4 = try await index.indexedRecordCount()
        XCTAssertEqual(got4, 8)
        try await log.deleteRecords(topic: "k", partition: 0, before: 6)
        try await indexer.catchUp()
        let got5 = try await index.indexedRecordCount()
        XCTAssertEqual(got5, 2)
        let ids = try await index.recentCorrelations(limit: 10).map(\.correlationID).sorted()
        XCTAssertEqual(ids, ["s2", "s3"])
        let got6 = try await index.coverage()[TopicPartition("k", 0)]?.tail
        XCTAssertEqual(got6, 6)
    }

    /// Trimming is bounded per call (one transaction of at most `budget` offsets over every partition) and
    /// says what is left, so that a log deleting as fast as it is written never holds back the index's heads.
    func testTrimmingIsBoundedPerCallAndSaysWhatIsLeft() async throws {
        let log = InMemoryLog()
        try await log.createTopic("k", partitions: 2)
        for p: Int32 in 0...1 {
            _ = try await log.produce((0..<100).map { i in
                OutgoingRecord(topic: "k", partition: p, timestampMillis: nowMillis, key: nil,
                               headers: [RecordHeader(name: "correlation-id", value: Array("p\(p)-\(i)".utf8))], value: [1])
            })
        }
        let index = try CorrelationIndex(path: path("kafka.index"))
        try await CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default).catchUpFully()
        let lows = [TopicPartition("k", 0): Int64(60), TopicPartition("k", 1): Int64(50)]
        var left: [Int64] = []
        var counts: [Int64] = []
        repeat {
            left.append(try await index.trim(below: lows, budget: 40))
            counts.append(try await index.indexedRecordCount())
        } while left.last ?? 0 > 0 && left.count < 10
        XCTAssertEqual(left, [70, 30, 0])
        XCTAssertEqual(counts, [160, 120, 90])
        let coverage = try await index.coverage()
        XCTAssertEqual(coverage[TopicPartition("k", 0)]?.tail, 60)
        XCTAssertEqual(coverage[TopicPartition("k", 1)]?.tail, 50)
        let sagas = try await index.recentCorrelations(limit: 1_000).count
        XCTAssertEqual(sagas, 90)
    }

    /// Retention overtook what the index had reached (it was not running): the partition goes on at the
    /// log's start with every record after it indexed, even when the indexer takes new partitions newest
    /// first: the records between the log start and the newest window are not taken for indexed.
    func testAnIndexOvertakenByRetentionGoesOnAtTheLogStart() async throws {
        let log = InMemoryLog()
        try await log.createTopic("k", partitions: 1)
        func produce(_ range: Range<Int>) async throws {
            _ = try await log.produce(range.map { i in
                OutgoingRecord(topic: "k", partition: 0, timestampMillis: nowMillis, key: nil,
                               headers: [RecordHeader(name: "correlation-id", value: Array("s\(i)".utf8))], value: [1])
            })
        }
        try await produce(0..<1_000)
        let index = try CorrelationIndex(path: path("kafka.index"))
        let indexer = CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default, maxRecordsPerTick: 1_000, recentFirst: 1)
        try await indexer.catchUpFully()
        let first = try await index.indexedRecordCount()
        XCTAssertEqual(first, 1_000)
        try await produce(1_000..<3_000)
        try await log.deleteRecords(topic: "k", partition: 0, before: 1_500)
        try await indexer.catchUpFully()
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 1_500)
        let coverage = try await index.coverage()[TopicPartition("k", 0)]
        XCTAssertEqual(coverage?.tail, 1_500)
        XCTAssertEqual(coverage?.head, 3_000)
    }

    /// Entries are found by position through blocks of 1,024 offsets: a trim across several blocks and into
    /// one drops exactly the entries below, keeps the rest of that block, and moves the sagas' summaries.
    func testTrimmingAcrossBlocksDropsExactlyTheEntriesBelow() async throws {
        let log = InMemoryLog()
        try await log.createTopic("k", partitions: 1)
        // Saga s<i/4>: four records each, a millisecond apart, 3,000 records over three blocks.
        _ = try await log.produce((0..<3_000).map { i in
            OutgoingRecord(topic: "k", partition: 0, timestampMillis: nowMillis + Int64(i), key: nil,
                           headers: [RecordHeader(name: "correlation-id", value: Array("s\(i / 4)".utf8))], value: [1])
        })
        let index = try CorrelationIndex(path: path("kafka.index"))
        let indexer = CorrelationIndexer(log: log, index: index, rules: CorrelationRules.default)
        try await indexer.catchUpFully()
        try await log.deleteRecords(topic: "k", partition: 0, before: 2_050)
        try await indexer.catchUpFully()
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 950)
        // s512 held offsets 2048–2051: two are gone, two stay, and its first time moves with them.
        let split = try await index.records(correlationID: "s512")
        XCTAssertEqual(split.map(\.offset), [2_050, 2_051])
        XCTAssertEqual(split.map(\.timestampMillis), [nowMillis + 2_050, nowMillis + 2_051])
        let summary = try await index.recentCorrelations(limit: 1_000).first { $0.correlationID == "s512" }
        XCTAssertEqual(summary?.records, 2)
        XCTAssertEqual(summary?.firstMillis, nowMillis + 2_050)
        let gone = try await index.records(correlationID: "s100")
        XCTAssertEqual(gone, [])
        let sagas = try await index.recentCorrelations(limit: 1_000).count
        XCTAssertEqual(sagas, 238)  // s512 through s749
        // The rest of the log's records are still found, the newest included.
        let last = try await index.records(correlationID: "s749")
        XCTAssertEqual(last.map(\.offset), [2_996, 2_997, 2_998, 2_999])
    }
}
