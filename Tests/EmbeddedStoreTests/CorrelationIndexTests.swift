import EmbeddedStore
import EventModel
import Foundation
import XCTest

final class CorrelationIndexTests: StoreTestCase {
    func sagaRecord(_ topic: String, _ id: String?, _ type: String, ts: Int64) -> OutgoingRecord {
        var headers = [RecordHeader("event-type", type)]
        if let id { headers.insert(RecordHeader("correlation-id", id), at: 0) }
        return record(topic, key: id, value: #"{"eventType":"\#(type)"}"#, headers: headers, ts: ts)
    }

    func makeStore() async throws -> SQLiteLog {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 3)
        try await log.createTopic("payments", partitions: 2)
        return log
    }

    func testIndexesEveryPartitionAndLooksUpByID() async throws {
        let log = try await makeStore()
        var batch: [OutgoingRecord] = []
        for i in 0..<50 {
            batch.append(sagaRecord("orders", "ord-\(i)", "OrderPlaced", ts: 1_000 + Int64(i)))
            batch.append(sagaRecord("payments", "ord-\(i)", "PaymentAuthorized", ts: 2_000 + Int64(i)))
        }
        batch.append(sagaRecord("orders", nil, "Heartbeat", ts: 5_000))  // no correlation ID: skipped, cursor still moves
        try await log.produce(batch)
        let index = try CorrelationIndex(path: log.path)
        let indexer = CorrelationIndexer(log: log, index: index, rules: .default, maxRecordsPerTick: 30)
        let first = try await indexer.catchUp()
        XCTAssertEqual(first.read, 30, "bounded per tick")
        XCTAssertEqual(first.remaining, 71)
        let rest = try await indexer.catchUpFully()
        XCTAssertEqual(rest, 71)
        let indexed = try await index.indexedRecordCount()
        XCTAssertEqual(indexed, 100)
        let refs = try await index.records(correlationID: "ord-7")
        XCTAssertEqual(refs.map(\.eventType), ["OrderPlaced", "PaymentAuthorized"])
        XCTAssertEqual(refs.map(\.timestampMillis), [1_007, 2_007])
        // The index points at the real records.
        let fetched = try await log.fetch(topic: refs[1].topic, partition: refs[1].partition, from: refs[1].offset, maxRecords: 1)
        XCTAssertEqual(fetched.first?.header("correlation-id")?.utf8Value, "ord-7")
        let none = try await index.records(correlationID: "ord-missing")
        XCTAssertEqual(none, [])
        // Nothing new: nothing read.
        let idle = try await indexer.catchUp()
        XCTAssertEqual(idle, .init(read: 0, indexed: 0, remaining: 0))
    }

    func testRecentCorrelationsNewestFirstWithLastEventType() async throws {
        let log = try await makeStore()
        try await log.produce([sagaRecord("orders", "a", "OrderPlaced", ts: 100), sagaRecord("orders", "b", "OrderPlaced", ts: 200),
                               sagaRecord("payments", "a", "PaymentDeclined", ts: 300)])
        let index = try CorrelationIndex(path: log.path)
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        // Out of order: an older record of b arrives later; it must not become b's last event.
        try await log.produce([sagaRecord("payments", "b", "PaymentAuthorized", ts: 150)])
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        let recent = try await index.recentCorrelations(limit: 10)
        XCTAssertEqual(recent, [
            CorrelationSummary(correlationID: "a", firstMillis: 100, lastMillis: 300, records: 2, lastEventType: "PaymentDeclined"),
            CorrelationSummary(correlationID: "b", firstMillis: 150, lastMillis: 200, records: 2, lastEventType: "OrderPlaced"),
        ])
        let limited = try await index.recentCorrelations(limit: 1)
        XCTAssertEqual(limited.map(\.correlationID), ["a"])
        let prefixed = try await index.correlationIDs(prefix: "b", limit: 5)
        XCTAssertEqual(prefixed, ["b"])
    }

    func testReindexingIsIdempotentAndCursorsSurviveReopen() async throws {
        let log = try await makeStore()
        try await log.produce((0..<20).map { sagaRecord("orders", "x\($0 % 4)", "E\($0)", ts: Int64($0)) })
        let index = try CorrelationIndex(path: log.path)
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        // Re-applying the same entries (two processes racing) changes neither rows nor counts.
        let refs = try await index.records(correlationID: "x1")
        try await index.apply(refs.map { .init(topic: $0.topic, partition: $0.partition, offset: $0.offset, correlationID: "x1",
                                               timestampMillis: $0.timestampMillis, eventType: $0.eventType) }, cursors: [:])
        let again = try await index.recentCorrelations(limit: 10)
        XCTAssertEqual(again.first { $0.correlationID == "x1" }?.records, 5)
        // A reopened index continues from its cursors: nothing to read.
        let reopened = try CorrelationIndex(path: log.path)
        let progress = try await CorrelationIndexer(log: log, index: reopened, rules: .default).catchUp()
        XCTAssertEqual(progress.read, 0)
        let cursors = try await reopened.cursors()
        XCTAssertEqual(cursors.values.reduce(0, +), 20)
    }

    func testRetentionMovesTheCursorPastDeletedRecords() async throws {
        let log = try await makeStore()
        try await log.produce((0..<10).map { sagaRecord("payments", "p", "E\($0)", ts: Int64($0)) }.map { var r = $0; r.partition = 0; return r })
        _ = try await log.deleteRecords(topic: "payments", partition: 0, before: 6)
        let index = try CorrelationIndex(path: log.path)
        let progress = try await CorrelationIndexer(log: log, index: index, rules: .default).catchUp()
        XCTAssertEqual(progress.read, 4)
    }

    func testATopicRecreatedUnderTheSameNameIsIndexedAfresh() async throws {
        // The index file outlives the topic: a log whose partition ends before the cursor had it recreated.
        let file = path("index.sqlite")
        let before = InMemoryLog()
        try await before.createTopic("orders", partitions: 2)
        try await before.produce((0..<20).map { i in var r = sagaRecord("orders", "old-\(i % 5)", "OrderPlaced", ts: Int64(i)); r.partition = 0; return r })
        try await before.produce([{ var r = sagaRecord("orders", "old-0", "OrderShipped", ts: 100); r.partition = 1; return r }()])
        let index = try CorrelationIndex(path: file)
        try await CorrelationIndexer(log: before, index: index, rules: .default).catchUpFully()
        let first = try await index.indexedRecordCount()
        XCTAssertEqual(first, 21)

        let after = InMemoryLog()
        try await after.createTopic("orders", partitions: 2)
        try await after.produce((0..<3).map { i in var r = sagaRecord("orders", "new-\(i)", "OrderPlaced", ts: 200 + Int64(i)); r.partition = 0; return r })
        try await after.produce([{ var r = sagaRecord("orders", "old-0", "OrderShipped", ts: 100); r.partition = 1; return r }()])
        try await CorrelationIndexer(log: after, index: index, rules: .default).catchUpFully()
        let fresh = try await index.records(correlationID: "new-2")
        XCTAssertEqual(fresh.map(\.offset), [2])
        let gone = try await index.records(correlationID: "old-3")
        XCTAssertEqual(gone, [], "entries of the old partition 0 are forgotten")
        // Partition 1 never went back: its entry stays, and the summary counts only what is left.
        let kept = try await index.records(correlationID: "old-0")
        XCTAssertEqual(kept.map(\.partition), [1])
        let summaries = try await index.recentCorrelations(limit: 10)
        XCTAssertEqual(summaries.first { $0.correlationID == "old-0" }?.records, 1)
        XCTAssertEqual(summaries.first { $0.correlationID == "old-0" }?.lastEventType, "OrderShipped")
        XCTAssertNil(summaries.first { $0.correlationID == "old-3" })
        let left = try await index.indexedRecordCount()
        XCTAssertEqual(left, 4)
    }

    func testAPartitionEndingInATransactionMarkerIsIndexedToItsEnd() async throws {
        // Kafka's transactional producers end their writes with a commit marker: an offset, but no record.
        let inner = InMemoryLog()
        try await inner.createTopic("orders", partitions: 1)
        try await inner.produce((0..<5).map { sagaRecord("orders", "t-\($0)", "OrderPlaced", ts: Int64($0)) })
        let log = MarkerLog(inner: inner)
        let index = try CorrelationIndex(path: path("marker-index.sqlite"))
        let indexer = CorrelationIndexer(log: log, index: index, rules: .default)
        try await indexer.catchUpFully()
        let after = try await indexer.catchUp()
        XCTAssertEqual(after.remaining, 0, "the marker is not left to read")
        let cursors = try await index.cursors()
        XCTAssertEqual(cursors[TopicPartition("orders", 0)], 6)
        let count = try await index.indexedRecordCount()
        XCTAssertEqual(count, 5)
        // A log that only follows records (the protocol's default) leaves the marker to read: what this fixes.
        let plain = CorrelationIndexer(log: MarkerLog(inner: inner, readsPastMarkers: false), index: try CorrelationIndex(path: path("plain-index.sqlite")), rules: .default)
        try await plain.catchUpFully()
        let stuck = try await plain.catchUp()
        XCTAssertEqual(stuck.remaining, 1)
    }

    func testReadOnlyStoreCannotIndexButReadsWhatIsThere() async throws {
        let log = try await makeStore()
        try await log.produce([sagaRecord("orders", "a", "OrderPlaced", ts: 1)])
        let index = try CorrelationIndex(path: log.path)
        try await CorrelationIndexer(log: log, index: index, rules: .default).catchUpFully()
        let ro = try CorrelationIndex(path: log.path, readOnly: true)
        XCTAssertFalse(ro.writable)
        let found = try await ro.records(correlationID: "a")
        XCTAssertEqual(found.count, 1)
        await assertThrows(StoreError.readOnly(log.path)) { try await ro.apply([], cursors: [:]) }
    }

    func testStoreOpenedReadWriteHasTheTablesWithoutASchemaBump() async throws {
        let log = try await makeStore()
        let ro = try CorrelationIndex(path: log.path, readOnly: true)
        let exists = try await ro.exists()
        XCTAssertTrue(exists)
        XCTAssertEqual(SQLiteLog.schemaVersion, 2, "2 since span rows reference their correlation ids; the index's tables took no bump")
        // A store still opens read-only afterwards (the tables do not make it a foreign file).
        XCTAssertNoThrow(try SQLiteLog(path: log.path, mode: .readOnly))
    }

    func testSeparateIndexFileForAnotherLog() async throws {
        // A log that is not SQLite (here the in-memory one, as Kafka would be) feeds an index in a local file.
        let memory = InMemoryLog()
        try await memory.createTopic("orders", partitions: 1)
        try await memory.produce([sagaRecord("orders", "k", "OrderPlaced", ts: 5)])
        let index = try CorrelationIndex(path: path("kafka-index.db"))
        try await CorrelationIndexer(log: memory, index: index, rules: .default).catchUpFully()
        let refs = try await index.records(correlationID: "k")
        XCTAssertEqual(refs.map(\.offset), [0])
    }
}

/// A log that behaves as Kafka does after a transactional producer: each partition's last offset is a
/// commit marker (no record), and `read` says to go on past it. Records come from an in-memory log
/// that is not written to after the marker.
final class MarkerLog: LogReader, LogWriter, DemoSetup, @unchecked Sendable {
    let inner: InMemoryLog
    /// False: `read` follows records only, as the protocol's default does (and as the fix replaces).
    let readsPastMarkers: Bool
    var sourceDescription: String { "marker:" + inner.sourceDescription }

    init(inner: InMemoryLog, readsPastMarkers: Bool = true) {
        self.inner = inner
        self.readsPastMarkers = readsPastMarkers
    }

    func snapshot() async throws -> BrokerSnapshot {
        var s = try await inner.snapshot()
        for t in s.topics.indices {
            for p in s.topics[t].partitions.indices where s.topics[t].partitions[p].high > 0 {
                s.topics[t].partitions[p].high += 1  // the marker
            }
        }
        return s
    }

    func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        let records = try await inner.fetch(topic: topic, partition: partition, from: offset, maxRecords: maxRecords)
        let next = records.last.map { $0.offset + 1 } ?? offset
        guard readsPastMarkers else { return (records, next) }
        let innerHigh = try await inner.watermarks(topic: topic).partitions.first { $0.partition == partition }?.high ?? 0
        return (records, next == innerHigh && innerHigh > 0 ? next + 1 : next)  // past the marker at the end
    }

    func createTopic(_ name: String, partitions: Int32) async throws { try await inner.createTopic(name, partitions: partitions) }
    func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] { try await inner.produce(records) }
    var producesIdempotently: Bool { true }
    func identity() async -> SourceIdentity? { await inner.identity() }
    func commit(group: String, member: String, offsets: [TopicPartition: Int64]) async throws {
        try await inner.commit(group: group, member: member, offsets: offsets)
    }
}
