import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// Deterministic dashboard states for screen tests: five minutes of watermark samples.
enum Fixtures {
    /// 2026-11-27 14:46:04 UTC.
    static let end = Date(timeIntervalSince1970: 1_795_791_964)

    static let topicSpecs: [(name: String, partitions: Int, base: Int64, rate: Double)] = [
        ("orders", 3, 48_000, 212),
        ("payments", 3, 31_000, 140),
        ("inventory", 3, 29_000, 133),
        ("shipments", 1, 18_000, 81),
        ("orders.DLT", 1, 0, 0.05),
        ("payments.DLT", 1, 0, 0),
        ("audit-log-with-a-rather-long-topic-name.v2", 6, 1_200_000, 1_520),
        ("idle", 2, 10, 0),
    ]

    static func snapshot(at t: Double) -> BrokerSnapshot {
        let topics = topicSpecs.map { spec -> TopicInfo in
            // A wave so sparklines have shape; each partition takes a share of the rate.
            // Rate = spec.rate × (1 + cos(t/20)): never negative, so the counter only grows.
            let total = Double(spec.base) + spec.rate * ((t + 300) + 20 * sin(t / 20))
            let parts = (0..<spec.partitions).map { p -> PartitionWatermarks in
                let share = Int64(total / Double(spec.partitions)) + Int64(p)
                return PartitionWatermarks(partition: Int32(p), low: spec.name == "idle" ? 3 : 0, high: share)
            }
            return TopicInfo(name: spec.name, partitions: parts)
        }
        let groups = [
            ConsumerGroup(id: "payment-service", state: "Stable", members: 2,
                          offsets: [TopicPartition("orders", 0): 16_000, TopicPartition("orders", 1): 16_001, TopicPartition("orders", 2): 16_002]),
            ConsumerGroup(id: "shipping-service", state: "Stable", members: 1,
                          offsets: [TopicPartition("inventory", 0): 9_000, TopicPartition("inventory", 1): 9_000]),
            ConsumerGroup(id: "order-service", state: "Stable", members: 1,
                          offsets: [TopicPartition("payments", 0): 10_000, TopicPartition("shipments", 0): 17_000, TopicPartition("orders", 0): 1]),
        ]
        return BrokerSnapshot(time: end.addingTimeInterval(t), topics: topics, groups: groups)
    }

    /// A state fed one snapshot per second for the five minutes before `end`.
    static func liveState(width: Int, height: Int) -> AppState {
        var state = AppState(source: "sqlite:/var/lib/evtop/demo.db", now: end, size: Size(width: width, height: height))
        for t in stride(from: -300, through: 0, by: 1) {
            Reducer.reduce(&state, .snapshot(snapshot(at: Double(t))))
        }
        return state
    }
}

/// Compares a buffer's text with a golden file in Golden/; `EVTOP_RECORD_GOLDEN=1` rewrites it.
func assertGolden(_ buffer: ScreenBuffer, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().appendingPathComponent("Golden")
    let url = dir.appendingPathComponent(name + ".txt")
    let actual = buffer.lines.joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["EVTOP_RECORD_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("missing golden file \(url.path); record it with EVTOP_RECORD_GOLDEN=1 swift test --filter DashboardTests", file: file, line: line)
        return
    }
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDiff = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
        XCTFail("""
            screen differs from \(name).txt at line \(firstDiff + 1):
            expected: \(firstDiff < e.count ? String(e[firstDiff]) : "<none>")
            actual:   \(firstDiff < a.count ? String(a[firstDiff]) : "<none>")
            (re-record with EVTOP_RECORD_GOLDEN=1 if the change is intended)
            """, file: file, line: line)
    }
}
