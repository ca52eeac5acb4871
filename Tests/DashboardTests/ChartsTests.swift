import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// The charts a tall terminal gets under the topics and lag tables, and the totals behind them.
final class ChartsTests: XCTestCase {
    func testATallTerminalShowsThroughputUnderTheTopicsAndAShortOneDoesNot() {
        let tall = Screen.render(Fixtures.liveState(width: 200, height: 60), theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(tall.contains("written /s, every topic · last 15m"), tall)
        XCTAssertTrue(tall.contains("consumed /s, every group · last 15m"), tall)
        XCTAssertTrue(tall.contains("now"), tall)
        let short = Screen.render(Fixtures.liveState(width: 80, height: 24), theme: .fallback).lines.joined(separator: "\n")
        XCTAssertFalse(short.contains("written /s"), "eight topics leave no room for a chart at 80×24")
    }

    func testWCyclesTheWindowAndTheLagChartFollowsTheSelectedGroup() {
        var state = Fixtures.liveState(width: 200, height: 60)
        Reducer.reduce(&state, .key(.char("w")))
        XCTAssertEqual(state.viewStates[ChartWindow.self].minutes, 60)
        XCTAssertTrue(Screen.render(state, theme: .fallback).lines.joined().contains("last 1h"))
        Reducer.reduce(&state, .key(.char("2")))
        Reducer.reduce(&state, .key(.char("j")))
        let selected = state.lagCursor.selectedKey ?? ""
        XCTAssertFalse(selected.isEmpty)
        XCTAssertTrue(Screen.render(state, theme: .fallback).lines.joined().contains("total lag of \(selected)"))
    }

    func testTotalsCountWhatWasWrittenAndConsumedWithoutASpikeWhenAGroupAppears() {
        var meter = ThroughputMeter()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let tp = TopicPartition("orders", 0)
        for t in 0...60 {
            var groups = [ConsumerGroup(id: "billing", state: "Stable", members: 1, offsets: [tp: Int64(50 * t)])]
            // A group that shows up at 30 s already at offset 1,000,000: no million records consumed in a bucket.
            if t >= 30 { groups.append(ConsumerGroup(id: "late", state: "Stable", members: 1, offsets: [tp: 1_000_000 + Int64(20 * t)])) }
            meter.record(BrokerSnapshot(time: start.addingTimeInterval(Double(t)),
                                        topics: [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: Int64(100 * t))])],
                                        groups: groups))
        }
        let (produced, consumed) = meter.totals
        XCTAssertEqual(produced.count, 12)
        XCTAssertEqual(produced.last ?? 0, 100, accuracy: 0.01)
        XCTAssertEqual(consumed.first ?? 0, 50, accuracy: 0.01)
        XCTAssertEqual(consumed.last ?? 0, 70, accuracy: 0.01, "billing's 50/s and late's 20/s")
        XCTAssertLessThan(consumed.max() ?? 0, 100, "the late group's first offset is no consumption")
    }

    func testColumnsAverageBucketsEndingAtNow() {
        let (columns, per) = ColumnChart.columns([1, 2, 3, 4, 5, 6, 7], bucketSeconds: 5, windowSeconds: 30, width: 3)
        XCTAssertEqual(per, 2)
        XCTAssertEqual(columns, [2.5, 4.5, 6.5], "the newest two buckets make the last column")
    }
}
