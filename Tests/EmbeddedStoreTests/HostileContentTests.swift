import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// Rows another process wrote badly must give a clear error, never stop the process.
final class HostileContentTests: StoreTestCase {
    private func store(with sql: String) async throws -> SQLiteLog {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("orders", partitions: 2)
        try await log.produce([record("orders", partition: 0)])
        try await log.commit(group: "g", member: "m", offsets: [TopicPartition("orders", 0): 1])
        _ = try python("import sqlite3,sys\ndb=sqlite3.connect(sys.argv[1])\ndb.execute(sys.argv[2])\ndb.commit()", [p, sql])
        return try SQLiteLog(path: p, mode: .readOnly)
    }

    private func assertCorrupt(_ sql: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let log = try await store(with: sql)
        do {
            _ = try await log.snapshot()
            XCTFail("snapshot accepted a store after: \(sql)", file: file, line: line)
        } catch let error as StoreError {
            guard case .corrupt = error else { return XCTFail("\(error)", file: file, line: line) }
        }
    }

    func testTextWhereAWatermarkBelongsIsCorruptNotACrash() async throws {
        try await assertCorrupt("UPDATE partitions SET high = 'many' WHERE \"partition\" = 1")
    }

    func testBlobWatermarkIsCorrupt() async throws {
        try await assertCorrupt("UPDATE partitions SET low = x'00ff'")
    }

    func testLowAboveHighIsCorrupt() async throws {
        try await assertCorrupt("UPDATE partitions SET low = 50, high = 10 WHERE \"partition\" = 0")
    }

    func testNegativeCommittedOffsetIsCorrupt() async throws {
        try await assertCorrupt("UPDATE group_offsets SET committed = -9223372036854775808")
    }

    func testRecordWithIntegerKeyIsDecodedOrCorruptButNeverCrashes() async throws {
        let log = try await store(with: "UPDATE records SET ts = 'yesterday'")
        do {
            _ = try await log.fetch(topic: "orders", partition: 0, from: 0, maxRecords: 10)
            XCTFail("a text timestamp was accepted")
        } catch let error as StoreError {
            guard case .corrupt = error else { return XCTFail("\(error)") }
        }
    }

    func testNegativeCommitIsRefused() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("orders", partitions: 1)
        do {
            try await log.commit(group: "g", member: "m", offsets: [TopicPartition("orders", 0): -1])
            XCTFail("a negative offset was committed")
        } catch let error as BrokerError {
            guard case .writeRefused = error else { return XCTFail("\(error)") }
        }
    }
}
