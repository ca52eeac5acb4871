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

    /// High watermark of a fixture partition at time t (seconds relative to `end`).
    static func high(_ name: String, _ p: Int, _ t: Double) -> Int64 {
        guard let spec = topicSpecs.first(where: { $0.name == name }) else { return 0 }
        // Rate = spec.rate × (1 + cos(t/20)): never negative, so the counter only grows.
        let total = Double(spec.base) + spec.rate * ((t + 300) + 20 * sin(t / 20))
        return Int64(total / Double(spec.partitions)) + Int64(p)
    }

    static func millis(_ t: Double) -> Int64 { Int64((end.timeIntervalSince1970 + t) * 1000) }

    static func snapshot(at t: Double) -> BrokerSnapshot {
        let topics = topicSpecs.map { spec -> TopicInfo in
            TopicInfo(name: spec.name, partitions: (0..<spec.partitions).map {
                PartitionWatermarks(partition: Int32($0), low: spec.name == "idle" ? 3 : 0, high: high(spec.name, $0, t))
            })
        }
        func group(_ id: String, members: Int, _ parts: [(String, Int, Int64, Double)]) -> ConsumerGroup {
            var offsets: [TopicPartition: Int64] = [:], times: [TopicPartition: Int64] = [:]
            for (topic, p, committed, at) in parts {
                offsets[TopicPartition(topic, Int32(p))] = committed
                times[TopicPartition(topic, Int32(p))] = millis(at)
            }
            return ConsumerGroup(id: id, state: members > 0 ? "Stable" : "Empty", members: members,
                                 offsets: offsets, commitTimesMillis: times)
        }
        let groups = [
            // Keeps pace, caught up every tenth second: OK.
            group("payment-service", members: 2, (0..<3).map { p in
                ("orders", p, high("orders", p, t) - (Int(t) % 10 == 0 ? 0 : 5), t) }),
            // Reads 90% of what arrives: lag only grows: WARN.
            group("shipping-service", members: 1, (0..<3).map { p in
                ("inventory", p, Int64(Double(high("inventory", p, t)) * 0.9), t) }),
            // Re-commits the same offset every second: STALL (on payments p1 only).
            group("inventory-service", members: 2, (0..<3).map { p in
                p == 1 && t > -100 ? ("payments", p, high("payments", p, -100), t) : ("payments", p, high("payments", p, t), t) }),
            // Stopped committing 200 s ago, no members left: STOP.
            group("order-service", members: 0, [
                ("shipments", 0, high("shipments", 0, min(t, -200)), min(t, -200)),
                ("orders", 0, high("orders", 0, min(t, -200)), min(t, -200)),
            ]),
            // Reset its offsets back a minute five seconds ago: REWIND.
            group("audit-archiver", members: 3, (0..<6).map { p in
                ("audit-log-with-a-rather-long-topic-name.v2", p, t >= -5 ? high("audit-log-with-a-rather-long-topic-name.v2", p, -60) : high("audit-log-with-a-rather-long-topic-name.v2", p, t) - 100, t) }),
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

/// Compares a buffer's text and the theme role of every cell with a golden file in Golden/
/// (see `GoldenScreen`); `EVTOP_RECORD_GOLDEN=1` rewrites it.
func assertGolden(_ buffer: ScreenBuffer, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().appendingPathComponent("Golden")
    let url = dir.appendingPathComponent(name + ".txt")
    if ProcessInfo.processInfo.environment["EVTOP_RECORD_GOLDEN"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? GoldenScreen.encode(buffer).write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("missing golden file \(url.path); record it with EVTOP_RECORD_GOLDEN=1 swift test --filter DashboardTests", file: file, line: line)
        return
    }
    let differences = GoldenScreen.differences(buffer, golden: expected)
    if !differences.isEmpty {
        XCTFail("""
            screen differs from \(name).txt:
            \(differences.joined(separator: "\n"))
            (re-record with EVTOP_RECORD_GOLDEN=1 if the change is intended)
            """, file: file, line: line)
    }
}
