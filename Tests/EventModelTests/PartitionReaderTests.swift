import EventModel
import Foundation
import XCTest

/// One partition with Kafka's gaps: some positions are transaction markers (an offset, no record), and
/// `read` says to go on past them, as a Kafka fetch does. Optionally it also answers like a Kafka broker
/// that hands back a whole batch starting before the position asked for.
final class GappedLog: LogReader {
    let high: LogPosition
    let markers: Set<LogPosition>
    /// Records before the asked position a read also returns (a compressed batch's head).
    let leading: Int

    init(high: LogPosition, markers: Set<LogPosition>, leading: Int = 0) {
        self.high = high
        self.markers = markers
        self.leading = leading
    }

    var sourceDescription: String { "gapped:" }
    func identity() async -> SourceIdentity? { nil }

    func snapshot() async throws -> BrokerSnapshot {
        BrokerSnapshot(time: Date(timeIntervalSince1970: 0),
                       topics: [TopicInfo(name: "t", partitions: [PartitionWatermarks(partition: 0, low: 0, high: high)])], groups: [])
    }

    func record(_ offset: LogPosition) -> Record {
        Record(topic: "t", partition: 0, offset: offset, timestampMillis: offset, key: nil, headers: [], value: Array("\(offset)".utf8))
    }

    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> (records: [Record], next: LogPosition) {
        guard topic == "t" else { throw BrokerError.unknownTopic(topic) }
        var records: [Record] = []
        var p = Swift.max(0, position - LogPosition(leading))
        while p < high, records.count < maxRecords + leading {
            if !markers.contains(p) { records.append(record(p)) }
            p += 1
        }
        // Markers right after the last record belong to the same fetch: the broker says to go on past them.
        while p < high, markers.contains(p) { p += 1 }
        return (records, Swift.max(p, position))
    }
}

final class PartitionReaderTests: XCTestCase {
    private func walk(_ reader: inout PartitionReader, maxRecords: Int? = nil) async throws -> [[LogPosition]] {
        var batches: [[LogPosition]] = []
        while let batch = try await reader.next(maxRecords: maxRecords) { batches.append(batch.map(\.offset)) }
        return batches
    }

    func testStepsOverMarkersInsideAndAtTheEndOfAPartition() async throws {
        // Records 0-3, a marker at 4, records 5-7, markers at 8 and 9 (the partition's end).
        let log = GappedLog(high: 10, markers: [4, 8, 9])
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 0, to: 10, batchSize: 3)
        let batches = try await walk(&reader)
        XCTAssertEqual(batches.flatMap { $0 }, [0, 1, 2, 3, 5, 6, 7])
        XCTAssertFalse(batches.contains { $0.isEmpty }, "no empty batch")
        XCTAssertEqual(reader.position, 10, "the end, past the trailing markers")
        XCTAssertTrue(reader.isFinished)
    }

    func testALoopThatRestartsFromTheLastRecordStallsWhereTheReaderDoesNot() async throws {
        let log = GappedLog(high: 6, markers: [5])
        // What the old loops did: continue from `last.offset + 1`, stop at an empty read.
        var next: LogPosition = 0
        while next < 6 {
            let records = try await log.fetch(topic: "t", partition: 0, from: next, maxRecords: 10)
            guard let last = records.last else { break }
            next = last.offset + 1
        }
        XCTAssertEqual(next, 5, "stuck at the marker: a cursor saved here is never 'caught up'")
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 0, to: 6)
        _ = try await walk(&reader)
        XCTAssertEqual(reader.position, 6)
    }

    func testAStretchOfMarkersIsSteppedOverInOneCall() async throws {
        let log = GappedLog(high: 50, markers: Set(0..<40))
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 0, to: 50, batchSize: 5)
        let first = try await reader.next()
        XCTAssertEqual(first?.map(\.offset), [40, 41, 42, 43, 44])
    }

    func testStopsAtTheEndEvenWhenTheLogHasMore() async throws {
        let log = GappedLog(high: 100, markers: [3])
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 1, to: 6, batchSize: 50)
        let batches = try await walk(&reader)
        XCTAssertEqual(batches.flatMap { $0 }, [1, 2, 4, 5], "nothing at or past the end")
        XCTAssertEqual(reader.position, 6, "never past the end: a later, lower end means a recreated topic")
    }

    func testRecordsBeforeTheStartAreNotHandedOutAgain() async throws {
        let log = GappedLog(high: 10, markers: [], leading: 3)
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 4, to: 10, batchSize: 2)
        let batches = try await walk(&reader)
        XCTAssertEqual(batches.flatMap { $0 }, [4, 5, 6, 7, 8, 9])
    }

    func testAnEmptyAnswerWithoutAPositionToGoOnEndsTheWalkWhereItWas() async throws {
        // The snapshot said 12, the log has 8 so far (a Kafka fetch behind the watermark): stop at 8, try later.
        let log = GappedLog(high: 8, markers: [])
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 0, to: 12, batchSize: 100)
        let batches = try await walk(&reader)
        XCTAssertEqual(batches.flatMap { $0 }.count, 8)
        XCTAssertEqual(reader.position, 8, "not 12: jumping would skip records that are still coming")
        XCTAssertTrue(reader.isFinished)
        let again = try await reader.next()
        XCTAssertNil(again, "a finished walk does not read again")
    }

    func testWithoutAnEndItReadsWhatIsThereAndMaxRecordsBoundsEachBatch() async throws {
        let log = GappedLog(high: 9, markers: [2])
        var reader = PartitionReader(log: log, topic: "t", partition: 0, from: 0)
        let batches = try await walk(&reader, maxRecords: 3)
        XCTAssertEqual(batches, [[0, 1, 3], [4, 5, 6], [7, 8]])
        XCTAssertEqual(reader.position, 9)
    }

    func testAsAnAsyncSequenceAndOverAnInMemoryLog() async throws {
        let log = InMemoryLog()
        try await log.createTopic("orders", partitions: 2)
        try await log.produce((0..<7).map { OutgoingRecord(topic: "orders", partition: 1, timestampMillis: Int64($0), key: nil, headers: [], value: nil) })
        var seen: [LogPosition] = []
        for try await batch in PartitionReader(log: log, topic: "orders", partition: 1, from: 2, batchSize: 2) {
            XCTAssertLessThanOrEqual(batch.count, 2)
            seen += batch.map(\.offset)
        }
        XCTAssertEqual(seen, [2, 3, 4, 5, 6])
    }

    func testErrorsOfTheLogPassThrough() async throws {
        var reader = PartitionReader(log: GappedLog(high: 3, markers: []), topic: "nope", partition: 0, from: 0)
        do {
            _ = try await reader.next()
            XCTFail("an unknown topic was read")
        } catch let error as BrokerError {
            XCTAssertEqual(error, .unknownTopic("nope"))
        }
    }
}
