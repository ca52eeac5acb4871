import XCTest
import Foundation
import EventModel

/// A settable clock for injecting into logs under test.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    func now() -> Date { lock.withLock { current } }
    func set(_ date: Date) { lock.withLock { current = date } }
    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

final class InMemoryLogTests: XCTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    private static func record(_ topic: String, key: String? = nil, partition: Int32? = nil, _ value: String) -> OutgoingRecord {
        OutgoingRecord(topic: topic, partition: partition, timestampMillis: 1_000,
                       key: key.map { Array($0.utf8) }, headers: [RecordHeader("h", "v")], value: Array(value.utf8))
    }

    func testOffsetsStartAtZeroPerPartitionAndWatermarksFollow() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 2)
        let positions = try await log.produce([
            Self.record("t", partition: 0, "a"), Self.record("t", partition: 1, "b"), Self.record("t", partition: 0, "c"),
        ])
        XCTAssertEqual(positions, [
            RecordPosition(topic: "t", partition: 0, offset: 0),
            RecordPosition(topic: "t", partition: 1, offset: 0),
            RecordPosition(topic: "t", partition: 0, offset: 1),
        ])
        let snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.map(\.name), ["t"])
        XCTAssertEqual(snap.topics.first?.partitions, [
            PartitionWatermarks(partition: 0, low: 0, high: 2), PartitionWatermarks(partition: 1, low: 0, high: 1),
        ])
        let fetched = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 10)
        XCTAssertEqual(fetched.map(\.offset), [0, 1])
        XCTAssertEqual(fetched.map { $0.value.map { String(decoding: $0, as: UTF8.self) } }, ["a", "c"])
        XCTAssertEqual(fetched.first?.headers, [RecordHeader("h", "v")])
        XCTAssertEqual(fetched.first?.timestampMillis, 1_000)
    }

    func testKeyedRecordsUseKeyPartitionerAndKeylessRoundRobin() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 3)
        let keys = ["ord-1", "ord-2", "ord-3", "ord-4", "ord-1"]
        let keyed = try await log.produce(keys.map { Self.record("t", key: $0, "x") })
        XCTAssertEqual(keyed.map(\.partition), keys.map { KeyPartitioner.partition(for: Array($0.utf8), count: 3) })
        XCTAssertEqual(keyed[0].partition, keyed[4].partition)
        let keyless = try await log.produce((0..<4).map { _ in Self.record("t", "y") })
        XCTAssertEqual(keyless.map(\.partition), [0, 1, 2, 0])
    }

    func testUnknownTopicAndPartitionErrorsLeaveLogUntouched() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 1)
        await assertThrows(BrokerError.unknownTopic("nope")) { try await log.produce([Self.record("nope", "x")]) }
        await assertThrows(BrokerError.unknownPartition("t", 1)) {
            try await log.produce([Self.record("t", "ok"), Self.record("t", partition: 1, "bad")])
        }
        await assertThrows(BrokerError.unknownTopic("nope")) {
            _ = try await log.fetch(topic: "nope", partition: 0, from: 0, maxRecords: 1)
        }
        await assertThrows(BrokerError.unknownPartition("t", -1)) {
            _ = try await log.fetch(topic: "t", partition: -1, from: 0, maxRecords: 1)
        }
        await assertThrows(BrokerError.unknownTopic("nope")) {
            try await log.commit(group: "g", member: "m", offsets: [TopicPartition("nope", 0): 1])
        }
        // The batch with a bad record wrote nothing (atomic).
        let high = try await log.snapshot().topics.first?.partitions.first?.high
        XCTAssertEqual(high, 0)
        await assertThrows(BrokerError.writeRefused("topic 'z' needs at least one partition, got 0")) {
            try await log.createTopic("z", partitions: 0)
        }
    }

    func testCreateTopicKeepsExistingPartitions() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 2)
        try await log.produce([Self.record("t", partition: 1, "a")])
        try await log.createTopic("t", partitions: 5)
        let topic = try await log.snapshot().topics.first
        XCTAssertEqual(topic?.partitions.count, 2)
        XCTAssertEqual(topic?.totalHigh, 1)
    }

    func testFetchRanges() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 1)
        try await log.produce((0..<10).map { Self.record("t", "v\($0)") })
        var page = try await log.fetch(topic: "t", partition: 0, from: 3, maxRecords: 4)
        XCTAssertEqual(page.map(\.offset), [3, 4, 5, 6])
        page = try await log.fetch(topic: "t", partition: 0, from: 8, maxRecords: 100)
        XCTAssertEqual(page.map(\.offset), [8, 9])
        page = try await log.fetch(topic: "t", partition: 0, from: 10, maxRecords: 5)
        XCTAssertEqual(page, [])
        page = try await log.fetch(topic: "t", partition: 0, from: 2, maxRecords: 0)
        XCTAssertEqual(page, [])
        // Below the low watermark reads from the low watermark.
        try await log.deleteRecords(topic: "t", partition: 0, before: 5)
        page = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 2)
        XCTAssertEqual(page.map(\.offset), [5, 6])
        let wm = try await log.snapshot().topics.first?.partitions.first
        XCTAssertEqual(wm, PartitionWatermarks(partition: 0, low: 5, high: 10))
        let next = try await log.produce([Self.record("t", "new")])
        XCTAssertEqual(next.first?.offset, 10)
    }

    func testGroupOffsetsCommitTimesAndMemberLiveness() async throws {
        let clock = ManualClock(t0)
        let log = InMemoryLog(now: { clock.now() })
        try await log.createTopic("t", partitions: 2)
        try await log.commit(group: "g", member: "m1", offsets: [TopicPartition("t", 0): 4])
        clock.advance(by: 5)
        try await log.heartbeat(group: "g", member: "m2")
        try await log.commit(group: "g", member: "m2", offsets: [TopicPartition("t", 1): 7])

        var group = try await log.snapshot().groups.first
        XCTAssertEqual(group?.id, "g")
        XCTAssertEqual(group?.offsets, [TopicPartition("t", 0): 4, TopicPartition("t", 1): 7])
        let base = Int64(t0.timeIntervalSince1970 * 1000)
        XCTAssertEqual(group?.commitTimesMillis, [TopicPartition("t", 0): base, TopicPartition("t", 1): base + 5_000])
        XCTAssertEqual(group?.members, 2)
        XCTAssertEqual(group?.state, "Stable")

        clock.advance(by: 5.5)  // m1 last seen 10.5 s ago
        group = try await log.snapshot().groups.first
        XCTAssertEqual(group?.members, 1)
        let live = await log.liveMemberIDs(group: "g")
        XCTAssertEqual(live, ["m2"])

        clock.advance(by: 5)  // both silent for more than 10 s
        group = try await log.snapshot().groups.first
        XCTAssertEqual(group?.members, 0)
        XCTAssertEqual(group?.state, "Empty")
        XCTAssertEqual(group?.offsets.count, 2, "offsets outlive members")

        try await log.heartbeat(group: "g", member: "m1")
        group = try await log.snapshot().groups.first
        XCTAssertEqual(group?.members, 1)
        XCTAssertEqual(group?.state, "Stable")
        let snapTime = try await log.snapshot().time
        XCTAssertEqual(snapTime, clock.now())
    }

    private func assertThrows(_ expected: BrokerError, file: StaticString = #filePath, line: UInt = #line,
                              _ body: @Sendable () async throws -> Void) async {
        do {
            try await body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let error as BrokerError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }
}
