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
        let short = Screen.render(Fixtures.liveState(width: 80, height: 20), theme: .fallback).lines.joined(separator: "\n")
        XCTAssertFalse(short.contains("written /s"), "eight topics leave no room for a chart at 80×20")
        // At 80×24 they leave nine rows: enough for the two charts side by side.
        let lines = Screen.render(Fixtures.liveState(width: 80, height: 24), theme: .fallback).lines
        XCTAssertTrue(lines.contains { $0.contains("written /s") && $0.contains("consumed /s") }, lines.joined(separator: "\n"))
    }

    /// At 200×60 the views use their rows: the charts take what the tables leave, so no run of blank rows
    /// is left at the bottom of the topics or lag view, of their side panes, or of a drill-in.
    func testChartsFillTheRowsTheTablesLeave() {
        let split = Charts.split(Rect(x: 0, y: 0, width: 200, height: 55), tableRows: 6)
        XCTAssertEqual(split.table.height, 7)
        XCTAssertEqual(split.chart?.height, 47, "every row under the table and its gap")
        XCTAssertEqual(Charts.stack(Rect(x: 0, y: 10, width: 50, height: 47), count: 4).map(\.height), [12, 12, 12, 11])
        XCTAssertEqual(Charts.stack(Rect(x: 0, y: 10, width: 50, height: 47), count: 4).last.map { $0.y + $0.height }, 57)

        var state = Fixtures.liveState(width: 200, height: 60)
        func blankRowsAtTheBottom() -> (main: Int, pane: Int) {
            let lines = Screen.render(state, theme: .fallback).lines
            // Content rows: between the frames' top (row 1) and bottom border (row 58); main ends at column 120.
            let body = lines[2..<58]
            func blank<S: StringProtocol>(_ s: S) -> Bool { s.allSatisfy { $0 == " " || $0 == "│" } }
            let main = body.reversed().prefix { blank($0.prefix(120)) }.count
            let pane = body.reversed().prefix { blank($0.dropFirst(120)) }.count
            return (main, pane)
        }
        let topics = blankRowsAtTheBottom()
        XCTAssertEqual(topics.main, 0, "topics view")
        XCTAssertEqual(topics.pane, 0, "the topic's partitions beside it")
        Reducer.reduce(&state, .key(.char("2")))
        let lag = blankRowsAtTheBottom()
        XCTAssertEqual(lag.main, 0, "lag view")
        XCTAssertEqual(lag.pane, 0, "the group's partitions beside it")
        let text = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        for group in state.groupLags.map(\.id) {
            XCTAssertTrue(text.contains("total lag of \(group)"), "one chart per group when they fit: \(group)\n\(text)")
        }
        // Stacked charts line up: every y axis (┤ and │ after the labels) in the same column.
        let axisColumns = Set(Screen.render(state, theme: .fallback).lines.compactMap { line -> Int? in
            let main = Array(line.prefix(120))
            guard let i = main.firstIndex(of: "┤") else { return nil }
            return i
        })
        XCTAssertEqual(axisColumns.count, 1, "y axes at columns \(axisColumns.sorted())\n\(text)")
    }

    /// Twelve rows under the table (the demo's six topics at 80×24): two stacked charts would get three plot
    /// rows each, so they stand side by side at the full height instead.
    func testAShortChartAreaPutsTheTwoChartsSideBySide() {
        let state = Fixtures.liveState(width: 80, height: 24)
        var buffer = ScreenBuffer(width: 78, height: 12)  // inside the frame of an 80-column terminal
        Charts.throughput(state, in: Rect(x: 0, y: 0, width: 78, height: 12), into: &buffer, theme: .fallback)
        let lines = buffer.lines
        XCTAssertTrue(lines[0].contains("written /s") && lines[0].contains("consumed /s"), lines.joined(separator: "\n"))
        XCTAssertEqual(lines.filter { $0.contains("┤") }.count, 3, "top, middle and zero of a 9-row plot\n" + lines.joined(separator: "\n"))
        XCTAssertTrue(lines[11].contains("now"), lines.joined(separator: "\n"))
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
