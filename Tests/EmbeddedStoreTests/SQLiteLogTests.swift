import EmbeddedStore
import EventModel
import Foundation
import XCTest

final class SQLiteLogTests: StoreTestCase {
    func testRoundTripKeepsBytesHeadersAndLargeValues() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("bin", partitions: 1)
        let key: [UInt8] = [0xff, 0x00, 0xfe, 0xc3, 0x28]                 // not UTF-8
        let value: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let headers = [
            RecordHeader(name: "retry", value: [0x01]),
            RecordHeader(name: "x", value: [0xc0, 0xaf, 0x00]),
            RecordHeader(name: "retry", value: [0x02]),                      // repeated name, order kept
            RecordHeader(name: "empty", value: []),
            RecordHeader("correlation-id", "ord-7f3a"),
        ]
        var big = [UInt8](repeating: 0, count: 10 * 1024 * 1024)
        for i in stride(from: 0, to: big.count, by: 4093) { big[i] = UInt8(truncatingIfNeeded: i) }
        let out = [
            OutgoingRecord(topic: "bin", timestampMillis: 42, key: key, headers: headers, value: value),
            OutgoingRecord(topic: "bin", timestampMillis: 43, key: nil, headers: [], value: nil),   // tombstone
            OutgoingRecord(topic: "bin", timestampMillis: 44, key: [], headers: [], value: []),     // empty ≠ nil
            OutgoingRecord(topic: "bin", timestampMillis: 45, key: Array("big".utf8), value: big),
        ]
        let positions = try await log.produce(out)
        XCTAssertEqual(positions.map(\.offset), [0, 1, 2, 3])
        let got = try await log.fetch(topic: "bin", partition: 0, from: 0, maxRecords: 10)
        XCTAssertEqual(got.count, 4)
        for (g, o) in zip(got, out) {
            XCTAssertEqual(g.key, o.key)
            XCTAssertEqual(g.value, o.value)
            XCTAssertEqual(g.headers, o.headers)
            XCTAssertEqual(g.timestampMillis, o.timestampMillis)
            XCTAssertEqual(g.topic, "bin")
            XCTAssertEqual(g.partition, 0)
        }
        XCTAssertEqual(got[0].header("retry")?.value, [0x02])
        XCTAssertNil(got[1].value)
        XCTAssertNil(got[1].key)
        XCTAssertEqual(got[2].key, [])
        XCTAssertEqual(got[2].value, [])
    }

    func testOffsetsAreContiguousPerPartitionAcrossCalls() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 4)
        var all: [RecordPosition] = []
        for round in 0..<5 {
            var batch: [OutgoingRecord] = []
            for i in 0..<37 {
                switch i % 3 {
                case 0: batch.append(record("orders", key: "k\(i)-\(round)"))
                case 1: batch.append(record("orders"))                              // round robin
                default: batch.append(record("orders", partition: Int32(i % 4)))
                }
            }
            all += try await log.produce(batch)
        }
        XCTAssertEqual(all.count, 185)
        let byPartition = Dictionary(grouping: all, by: \.partition)
        XCTAssertEqual(Set(byPartition.keys), [0, 1, 2, 3])
        for (partition, positions) in byPartition {
            XCTAssertEqual(positions.map(\.offset), Array(0..<Int64(positions.count)), "partition \(partition)")
            let fetched = try await log.fetch(topic: "orders", partition: partition, from: 0, maxRecords: 1000)
            XCTAssertEqual(fetched.map(\.offset), positions.map(\.offset))
        }
        // fetch from the middle, limited
        let some = try await log.fetch(topic: "orders", partition: 0, from: 3, maxRecords: 5)
        XCTAssertEqual(some.map(\.offset), [3, 4, 5, 6, 7])
        let none = try await log.fetch(topic: "orders", partition: 0, from: 10_000, maxRecords: 5)
        XCTAssertEqual(none, [])
    }

    func testRoundRobinSpreadsKeylessRecords() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("rr", partitions: 3)
        let positions = try await log.produce((0..<9).map { _ in record("rr") })
        XCTAssertEqual(Dictionary(grouping: positions, by: \.partition).mapValues(\.count), [0: 3, 1: 3, 2: 3])
    }

    func testKeyPartitioningIsStableAndMatchesKeyPartitioner() async throws {
        let p = path()
        var first: [String: Int32] = [:]
        let keys = (0..<50).map { "customer-\($0)" }
        do {
            let log = try SQLiteLog(path: p)
            try await log.createTopic("keyed", partitions: 6)
            for (k, pos) in zip(keys, try await log.produce(keys.map { record("keyed", key: $0) })) {
                first[k] = pos.partition
                XCTAssertEqual(pos.partition, KeyPartitioner.partition(for: Array(k.utf8), count: 6))
            }
        }
        let reopened = try SQLiteLog(path: p)
        let again = try await reopened.produce(keys.reversed().map { record("keyed", key: $0) })
        for (k, pos) in zip(keys.reversed(), again) { XCTAssertEqual(pos.partition, first[k], k) }
        XCTAssertGreaterThan(Set(first.values).count, 1)
    }

    func testWatermarksAfterAppends() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("b", partitions: 2)
        try await log.createTopic("a", partitions: 1)
        var snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.map(\.name), ["a", "b"])
        XCTAssertEqual(snap.topics[1].partitions, [PartitionWatermarks(partition: 0, low: 0, high: 0),
                                                   PartitionWatermarks(partition: 1, low: 0, high: 0)])
        try await log.produce((0..<5).map { _ in record("b", partition: 1) } + [record("a"), record("b", partition: 0)])
        try await log.produce([record("b", partition: 1)])
        snap = try await log.snapshot()
        XCTAssertEqual(snap.topics[0].partitions, [PartitionWatermarks(partition: 0, low: 0, high: 1)])
        XCTAssertEqual(snap.topics[1].partitions, [PartitionWatermarks(partition: 0, low: 0, high: 1),
                                                   PartitionWatermarks(partition: 1, low: 0, high: 6)])
        XCTAssertEqual(snap.topics[1].totalHigh, 7)
        XCTAssertEqual(try log.recordCount(), 8)
    }

    func testCreateTopicIsIdempotentAndKeepsPartitions() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("t", partitions: 3)
        try await log.produce([record("t", partition: 2)])
        try await log.createTopic("t", partitions: 8)
        let snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.map { $0.partitions.count }, [3])
        XCTAssertEqual(snap.topics[0].partitions[2].high, 1)
        await assertThrows(BrokerError.writeRefused("topic 'z' needs at least one partition (got 0)")) {
            try await log.createTopic("z", partitions: 0)
        }
    }

    func testUnknownTopicOrPartitionThrowsAndWritesNothing() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("known", partitions: 2)
        await assertThrows(BrokerError.unknownTopic("nope")) {
            try await log.produce([record("known", partition: 0), record("nope")])
        }
        await assertThrows(BrokerError.unknownPartition("known", 2)) {
            try await log.produce([record("known", partition: 0), record("known", partition: 2)])
        }
        await assertThrows(BrokerError.unknownPartition("known", -1)) {
            try await log.produce([record("known", partition: -1)])
        }
        await assertThrows(BrokerError.unknownTopic("nope")) {
            try await log.fetch(topic: "nope", partition: 0, from: 0, maxRecords: 10)
        }
        await assertThrows(BrokerError.unknownPartition("known", 5)) {
            try await log.fetch(topic: "known", partition: 5, from: 0, maxRecords: 10)
        }
        await assertThrows(BrokerError.unknownTopic("nope")) {
            try await log.commit(group: "g", member: "m", offsets: [TopicPartition("nope", 0): 1])
        }
        // The failed batches were rolled back entirely.
        let snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.map(\.name), ["known"])
        XCTAssertEqual(snap.topics[0].totalHigh, 0)
        XCTAssertEqual(snap.groups, [])
        let got1 = try await log.fetch(topic: "known", partition: 0, from: 0, maxRecords: 10)
        XCTAssertEqual(got1, [])
    }

    func testGroupCommitsGiveLagInputs() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 2)
        try await log.produce((0..<10).map { record("orders", partition: Int32($0 % 2)) })
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        try await log.commit(group: "billing", member: "billing-1",
                             offsets: [TopicPartition("orders", 0): 3, TopicPartition("orders", 1): 5])
        try await log.heartbeat(group: "billing", member: "billing-2")
        try await log.heartbeat(group: "audit", member: "audit-1")
        try await log.commit(group: "billing", member: "billing-1", offsets: [TopicPartition("orders", 0): 4])
        let after = Int64(Date().timeIntervalSince1970 * 1000)

        let snap = try await log.snapshot()
        XCTAssertEqual(snap.groups.map(\.id), ["audit", "billing"])
        let audit = snap.groups[0], billing = snap.groups[1]
        XCTAssertEqual(audit.members, 1)
        XCTAssertEqual(audit.state, "Stable")
        XCTAssertEqual(audit.offsets, [:])
        XCTAssertEqual(billing.members, 2)
        XCTAssertEqual(billing.state, "Stable")
        XCTAssertEqual(billing.offsets, [TopicPartition("orders", 0): 4, TopicPartition("orders", 1): 5])
        XCTAssertEqual(Set(billing.commitTimesMillis.keys), Set(billing.offsets.keys))
        for t in billing.commitTimesMillis.values {
            XCTAssertGreaterThanOrEqual(t, before)
            XCTAssertLessThanOrEqual(t, after)
        }
        // Lag inputs: high watermark − committed.
        let highs = Dictionary(uniqueKeysWithValues: snap.topics[0].partitions.map {
            (TopicPartition("orders", $0.partition), $0.high)
        })
        XCTAssertEqual(billing.offsets.map { highs[$0.key]! - $0.value }.sorted(), [0, 1])
    }

    func testMembersOutsideTheLivenessWindowAreNotCounted() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 1)
        try await log.commit(group: "g", member: "old", offsets: [TopicPartition("t", 0): 0])
        try await log.heartbeat(group: "g", member: "older")
        // Another process ages the members beyond the window.
        let aged = Int64((Date().timeIntervalSince1970 - SQLiteLog.memberLivenessWindow - 5) * 1000)
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], timeout=10)
            c.execute("UPDATE group_members SET last_seen = ?", (int(sys.argv[2]),))
            c.commit()
            """, [p, String(aged)])
        var snap = try await log.snapshot()
        XCTAssertEqual(snap.groups.first?.members, 0)
        XCTAssertEqual(snap.groups.first?.state, "Empty")
        XCTAssertEqual(snap.groups.first?.offsets, [TopicPartition("t", 0): 0])
        try await log.heartbeat(group: "g", member: "new")
        snap = try await log.snapshot()
        XCTAssertEqual(snap.groups.first?.members, 1)
        XCTAssertEqual(snap.groups.first?.state, "Stable")
    }

    func testDeleteRecordsAdvancesLowWatermark() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("r", partitions: 2)
        try await log.produce((0..<10).map { _ in record("r", partition: 0) } + [record("r", partition: 1)])
        let got2 = try await log.deleteRecords(topic: "r", partition: 0, before: 4)
        XCTAssertEqual(got2, 4)
        var snap = try await log.snapshot()
        XCTAssertEqual(snap.topics[0].partitions[0], PartitionWatermarks(partition: 0, low: 4, high: 10))
        XCTAssertEqual(snap.topics[0].partitions[1], PartitionWatermarks(partition: 1, low: 0, high: 1))
        let got3 = try await log.fetch(topic: "r", partition: 0, from: 0, maxRecords: 100).map(\.offset)
        XCTAssertEqual(got3, Array(4..<10))
        let got4 = try await log.deleteRecords(topic: "r", partition: 0, before: 2)
        XCTAssertEqual(got4, 0)   // never moves back
        let got5 = try await log.deleteRecords(topic: "r", partition: 0, before: 99)
        XCTAssertEqual(got5, 6)  // clamped to high
        snap = try await log.snapshot()
        XCTAssertEqual(snap.topics[0].partitions[0], PartitionWatermarks(partition: 0, low: 10, high: 10))
        XCTAssertEqual(try log.recordCount(), 1)
        // Offsets continue after retention.
        let got6 = try await log.produce([record("r", partition: 0)]).map(\.offset)
        XCTAssertEqual(got6, [10])
        await assertThrows(BrokerError.unknownPartition("r", 7)) {
            try await log.deleteRecords(topic: "r", partition: 7, before: 1)
        }
        await assertThrows(BrokerError.unknownTopic("x")) {
            try await log.deleteRecords(topic: "x", partition: 0, before: 1)
        }
    }

    func testReopeningKeepsData() async throws {
        let p = path()
        do {
            let log = try SQLiteLog(path: p)
            try await log.createTopic("keep", partitions: 2)
            try await log.produce([record("keep", partition: 1, key: "a", value: "one")])
            try await log.commit(group: "g", member: "m", offsets: [TopicPartition("keep", 1): 1])
        }
        let log = try SQLiteLog(path: p)
        XCTAssertEqual(log.sourceDescription, "sqlite:" + p)
        let snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.map(\.name), ["keep"])
        XCTAssertEqual(snap.topics[0].partitions[1].high, 1)
        XCTAssertEqual(snap.groups.first?.offsets, [TopicPartition("keep", 1): 1])
        let got = try await log.fetch(topic: "keep", partition: 1, from: 0, maxRecords: 1)
        XCTAssertEqual(got.first?.value, Array("one".utf8))
        let got7 = try await log.produce([record("keep", partition: 1)]).first?.offset
        XCTAssertEqual(got7, 1)
    }

    func testSchemaIsVersionedAndReadableByOtherTools() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 1)
        try await log.produce([record("t", headers: [RecordHeader("a", "1"), RecordHeader("a", "2")])])
        let out = try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], timeout=10)
            print(c.execute("PRAGMA journal_mode").fetchone()[0])
            print(c.execute("PRAGMA application_id").fetchone()[0], c.execute("PRAGMA user_version").fetchone()[0])
            meta = dict(c.execute("SELECT key, value FROM evtop_meta WHERE key != 'created_at'"))
            meta["store_id"] = len(meta.get("store_id", ""))  # a UUID: 36 characters
            print(meta)
            print(c.execute("SELECT hex(headers) FROM records").fetchone()[0])
            """, [p])
        XCTAssertEqual(out.split(separator: "\n").map(String.init), [
            "wal",
            "\(SQLiteLog.applicationID) 2",
            "{'format': 'evtop-store', 'schema_version': '2', 'store_id': 36}",
            "0201610131016101" + "32",
        ])
    }

    func testErrorMessagesNameThePathAndTheRemedy() {
        XCTAssertEqual(StoreError.newerSchema("/x/s.db", found: 7, supported: 1).description,
                       "'/x/s.db' was written by a newer evtop (schema 7, this evtop reads up to 1); upgrade evtop. "
                       + "The file was left untouched")
        for e: StoreError in [.notAnEvtopStore("/x/s.db"), .corrupt("/x/s.db", "bad"), .missing("/x/s.db"),
                              .readOnly("/x/s.db"), .cannotOpen("/x/s.db", "denied")] {
            XCTAssertTrue(e.description.contains("'/x/s.db'"), e.description)
            XCTAssertEqual(e.path, "/x/s.db")
        }
    }
}
