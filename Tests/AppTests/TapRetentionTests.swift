import XCTest
import Foundation
import EventModel
import EmbeddedStore
@testable import App

/// The RabbitMQ tap's store keeps what its record retention says (`evtop collect --record-max/--record-retention`).
final class TapRetentionTests: XCTestCase {
    private func records(_ range: Range<Int>, exchange: String, millis: (Int) -> Int64) -> [Record] {
        range.map { n in
            Record(topic: exchange, partition: 0, offset: 0, timestampMillis: millis(n), key: nil, headers: [], value: Array("{\"n\":\(n)}".utf8))
        }
    }

    func testTheTapKeepsWhatItsRetentionSaysPerExchange() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-tap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let cases: [(String, RecordRetentionPolicy, [String: Int64])] = [
            // A count: each exchange keeps its newest 1,000.
            ("count", RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: 1_000), ["orders": 1_000, "payments": 1_000]),
            // An age: the records of two days ago go, the fresh ones stay, whatever their number.
            ("age", RecordRetentionPolicy(maxAge: 86_400, maxRecordsPerPartition: nil), ["orders": 3_000, "payments": 3_000]),
            ("off", .off, ["orders": 6_000, "payments": 6_000]),
        ]
        for (name, policy, kept) in cases {
            let store = try SQLiteLog(path: folder.appendingPathComponent("\(name).db").path)
            let recorder = TapRecorder(store: store, indexer: nil, retention: policy)
            for exchange in ["orders", "payments"] {
                // 3,000 from two days ago, then 3,000 of now: the second batch crosses a retention pass.
                try await recorder.write(records(0..<3_000, exchange: exchange) { now - 2 * 86_400_000 + Int64($0) })
                try await recorder.write(records(3_000..<6_000, exchange: exchange) { now + Int64($0) })
            }
            try await recorder.prune()
            for topic in try await store.snapshot().topics {
                let p = try XCTUnwrap(topic.partitions.first)
                XCTAssertEqual(p.high - p.low, kept[topic.name], "\(name): \(topic.name)")
                XCTAssertEqual(p.high, 6_000, "\(name): positions go on; only the oldest go")
            }
            store.close()
        }
    }
}
