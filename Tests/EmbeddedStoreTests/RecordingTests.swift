import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// A recording file on a real SQLite store: snapshots by time, records at their own offsets, playback
/// at a clock that caps what reads return, and a file that playback never changes.
final class RecordingTests: StoreTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    private func snapshot(at seconds: Double, high: Int64, committed: Int64) -> BrokerSnapshot {
        BrokerSnapshot(time: t0.addingTimeInterval(seconds),
                       topics: [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 100, high: high)])],
                       groups: [ConsumerGroup(id: "billing", state: "Stable", members: 1,
                                              offsets: [TopicPartition("orders", 0): committed])])
    }

    private func records(_ offsets: ClosedRange<Int64>) -> [Record] {
        offsets.map { o in
            Record(topic: "orders", partition: 0, offset: o, timestampMillis: 1_800_000_000_000 + o, key: Array("k\(o)".utf8),
                   headers: [RecordHeader(name: "h", value: [0x1b, 0x5b])], value: Array("{\"n\":\(o)}".utf8))
        }
    }

    /// Makes a recording: three snapshots 10 s apart, the log at 110, 120, 130, records 105–129 (the
    /// first five of the retained log, 100–104, before the recording's start, are not in it).
    private func makeRecording() async throws -> String {
        let file = path("incident.evtop")
        let store = try SQLiteLog(path: file)
        try await store.beginRecording(source: "kafka://k1:9092")
        try await store.recordSnapshot(snapshot(at: 0, high: 110, committed: 105))
        try store.importRecords(records(105...109))
        try await store.recordSnapshot(snapshot(at: 10, high: 120, committed: 112))
        try store.importRecords(records(110...119))
        try await store.recordSnapshot(snapshot(at: 20, high: 130, committed: 125))
        try store.importRecords(records(120...129))
        try store.importRecords(records(120...121))  // again: kept once
        try await store.noteRecording("records after the first 25 were not kept (--max-records)")
        store.close()
        try SQLiteLog.sealRecording(path: file)
        return file
    }

    func testARecordingKeepsItsSnapshotsAndRecordsAtTheirOwnOffsets() async throws {
        let file = try await makeRecording()
        let store = try SQLiteLog(path: file, mode: .readOnly)
        defer { store.close() }
        let info = try XCTUnwrap(try store.recordingInfo())
        XCTAssertEqual(info.source, "kafka://k1:9092")
        XCTAssertEqual(info.start, t0)
        XCTAssertEqual(info.end, t0.addingTimeInterval(20))
        XCTAssertEqual(info.snapshots, 3)
        XCTAssertEqual(info.note, "records after the first 25 were not kept (--max-records)")
        let all = try await store.read(topic: "orders", partition: 0, from: 0, maxRecords: 100).records
        XCTAssertEqual(all.map(\.offset), Array(105...129))
        XCTAssertEqual(all.first?.headers, [RecordHeader(name: "h", value: [0x1b, 0x5b])])
        // The store's own watermarks cover what it holds: what its correlation index reads.
        let own = try await store.watermarks(topic: "orders")
        XCTAssertEqual(own.partitions, [PartitionWatermarks(partition: 0, low: 105, high: 130)])
        // A store that is no recording says so.
        let plain = try SQLiteLog(path: path("plain.db"))
        defer { plain.close() }
        XCTAssertNil(try plain.recordingInfo())
    }

    func testPlaybackShowsTheRecordedMomentAndReadsStopAtItsHighWatermarks() async throws {
        let file = try await makeRecording()
        let before = try fingerprint(file)
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        do {
            let playback = try RecordingPlayback(path: file)
            defer { playback.store.close() }
            XCTAssertEqual(playback.sourceDescription, "file:" + file)
            // The clock starts at the end.
            XCTAssertEqual(playback.clock, t0.addingTimeInterval(20))
            var shown = try await playback.snapshot()
            XCTAssertEqual(shown.time, t0.addingTimeInterval(20))
            XCTAssertEqual(shown.topics.first?.partitions.first?.high, 130)
            XCTAssertEqual(shown.groups.first?.offsets[TopicPartition("orders", 0)], 125)

            // Back to 12 s: the snapshot of 10 s, and the history up to it for rates.
            let moved = try playback.move(to: t0.addingTimeInterval(12), history: 600)
            XCTAssertEqual(moved.clock, t0.addingTimeInterval(12))
            XCTAssertEqual(moved.snapshots.map(\.time), [t0, t0.addingTimeInterval(10)])
            shown = try await playback.snapshot()
            XCTAssertEqual(shown.topics.first?.partitions.first?.high, 120)
            XCTAssertEqual(shown.groups.first?.offsets[TopicPartition("orders", 0)], 112)
            // Reads stop at that moment's high watermark, and say the partition was read to it.
            var read = try await playback.read(topic: "orders", partition: 0, from: 100, maxRecords: 1_000)
            XCTAssertEqual(read.records.map(\.offset), Array(105...119))
            XCTAssertEqual(read.next, 120)
            read = try await playback.read(topic: "orders", partition: 0, from: 120, maxRecords: 10)
            XCTAssertEqual(read.records, [])
            XCTAssertEqual(read.next, 120)
            // A page inside the range continues where it stopped.
            read = try await playback.read(topic: "orders", partition: 0, from: 105, maxRecords: 4)
            XCTAssertEqual(read.records.map(\.offset), [105, 106, 107, 108])
            XCTAssertEqual(read.next, 109)

            // Before the start and after the end, the clock stays within the recording.
            XCTAssertEqual(try playback.move(to: t0.addingTimeInterval(-60), history: 600).clock, t0)
            XCTAssertEqual(try playback.move(to: t0.addingTimeInterval(600), history: 5).snapshots.map(\.time), [t0.addingTimeInterval(20)])
            do {
                _ = try await playback.read(topic: "payments", partition: 0, from: 0, maxRecords: 1)
                XCTFail("an unknown topic must be refused")
            } catch let error as BrokerError {
                XCTAssertEqual(error, .unknownTopic("payments"))
            }
        }
        // Playback wrote nothing: the file's bytes and time are the same, and nothing was made beside it.
        XCTAssertEqual(try fingerprint(file), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), listing)
    }

    func testAStoreThatIsNoRecordingIsNotPlayedBack() async throws {
        let plain = try SQLiteLog(path: path("plain.db"))
        try await plain.createTopic("orders", partitions: 1)
        plain.close()
        XCTAssertThrowsError(try RecordingPlayback(path: path("plain.db"))) { error in
            XCTAssertTrue("\(error)".contains("no recording"), "\(error)")
        }
    }
}
