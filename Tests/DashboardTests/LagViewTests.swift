import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

final class LagViewTests: XCTestCase {
    private func lagState(width: Int, height: Int) -> AppState {
        var state = Fixtures.liveState(width: width, height: height)
        Reducer.reduce(&state, .key(.char("2")))
        return state
    }

    func testFixtureGroupsGetTheirBurrowStatuses() {
        let state = lagState(width: 100, height: 30)
        let status = Dictionary(uniqueKeysWithValues: state.groupLags.map { ($0.id, $0.status) })
        XCTAssertEqual(status["payment-service"], .ok)
        XCTAssertEqual(status["shipping-service"], .warn)
        XCTAssertEqual(status["inventory-service"], .stall)
        XCTAssertEqual(status["order-service"], .stop)
        XCTAssertEqual(status["audit-archiver"], .rewind)
    }

    func testWorstGroupsSortFirst() {
        let state = lagState(width: 100, height: 30)
        XCTAssertEqual(LagModel.rows(state).map(\.id).first, "audit-archiver")
        XCTAssertEqual(LagModel.rows(state).map(\.id).last, "payment-service")
    }

    func testALastCommitEvtopDidNotSeeHappenIsALowerBound() {
        // A consumer that committed and exited before evtop started: its offset never moves while watched.
        var state = AppState(source: "kafka://k:9092", now: Fixtures.end, size: Size(width: 120, height: 20))
        let tp = TopicPartition("orders", 0)
        for t in 0...11 {
            Reducer.reduce(&state, .snapshot(BrokerSnapshot(
                time: Fixtures.end.addingTimeInterval(Double(t - 11)),
                topics: [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 500)])],
                groups: [ConsumerGroup(id: "gone-service", state: "Empty", members: 0, offsets: [tp: 200])])))
        }
        state.view = .groupPartitions(group: "gone-service")
        let line = Screen.render(state, theme: .fallback).lines.first { $0.contains("│ orders") } ?? ""
        XCTAssertTrue(line.contains("≥ 11s ago"), line)
    }

    /// Issue 14 item 4 in the view: lag 300 on a partition the group never committed on is not "BEHIND 0s";
    /// once the poller has read its oldest record (`.recordTimesRead`), BEHIND is that record's age.
    func testBehindOfAnUncommittedPartitionIsNeverShownAsAnExactZero() throws {
        var state = AppState(source: "kafka://k:9092", now: Fixtures.end, size: Size(width: 160, height: 20))
        let p0 = TopicPartition("orders", 0)
        let p1 = TopicPartition("orders", 1)
        let topics = [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 300),
                                                             PartitionWatermarks(partition: 1, low: 0, high: 50)])]
        for t in 0...2 {
            Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end.addingTimeInterval(Double(t - 2)), topics: topics,
                groups: [ConsumerGroup(id: "half-service", state: "Stable", members: 1, offsets: [p1: 50])])))
        }
        Reducer.reduce(&state, .key(.char("2")))
        let before = try XCTUnwrap(state.groupLags.first)
        XCTAssertNotEqual(LagModel.behind(before), NumberFormat.duration(seconds: 0))
        let line = Screen.render(state, theme: .fallback).lines.first { $0.contains("│ half-service") } ?? ""
        XCTAssertFalse(line.contains(" 0s "), line)

        Reducer.reduce(&state, .recordTimesRead([RecordTime(p0, offset: 0, timestampMillis: Fixtures.millis(-120))]))
        let after = try XCTUnwrap(state.groupLags.first)
        XCTAssertEqual(LagModel.behind(after), NumberFormat.duration(seconds: 120))
        let shown = Screen.render(state, theme: .fallback).lines.first { $0.contains("│ half-service") } ?? ""
        XCTAssertTrue(shown.contains(NumberFormat.duration(seconds: 120)), shown)
    }

    func testAGroupWithNoCommittedOffsetsSaysSo() {
        // Named with --group (the cluster cannot list groups) but never committed, or mistyped.
        var state = lagState(width: 120, height: 30)
        guard var snapshot = state.snapshot else { return XCTFail("no snapshot") }
        snapshot.groups.append(ConsumerGroup(id: "typo-service", state: "", members: 0, offsets: [:]))
        snapshot.time = snapshot.time.addingTimeInterval(1)
        Reducer.reduce(&state, .snapshot(snapshot))
        let lines = Screen.render(state, theme: .fallback).lines
        let line = lines.first { $0.contains("typo-service") } ?? ""
        XCTAssertTrue(line.contains("no offsets"), line)
        XCTAssertFalse(line.contains("now"), line)
        XCTAssertFalse(line.contains(" OK "), line)
    }

    func testFiguresTheBrokerDoesNotReportShowAsUnknownNeverZeroOrOK() throws {
        // A Redis group whose lag Redis reports as nil, and a RabbitMQ queue with a depth and no offsets.
        var state = lagState(width: 160, height: 30)
        guard var snapshot = state.snapshot else { return XCTFail("no snapshot") }
        snapshot.topics.append(TopicInfo(name: "events", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 900)]))
        snapshot.topics.append(TopicInfo(name: "mail.q", partitions: [PartitionWatermarks(partition: 0, depth: 12)]))
        snapshot.groups.append(ConsumerGroup(id: "redis-readers", state: "", members: 1, offsets: [:],
                                             reported: [TopicPartition("events", 0): ReportedLag(pending: nil, position: 850)]))
        snapshot.groups.append(ConsumerGroup(id: "mail.q", state: "running", members: 1, offsets: [:],
                                             reported: [TopicPartition("mail.q", 0): ReportedLag(pending: 12, acknowledged: 40)]))
        snapshot.time = snapshot.time.addingTimeInterval(1)
        Reducer.reduce(&state, .snapshot(snapshot))
        let text = Screen.render(state, theme: .fallback).plainText
        let lines = text.split(separator: "\n").map(String.init)
        let redis = lines.first { $0.contains("redis-readers") } ?? ""
        XCTAssertTrue(redis.contains("UNKNOWN"), redis)
        XCTAssertTrue(redis.contains(" ? "), redis)
        XCTAssertFalse(redis.contains(" OK "), redis)
        XCTAssertFalse(redis.contains(" 0 "), redis)
        XCTAssertFalse(redis.contains("no offsets"), redis)
        XCTAssertTrue(text.contains(LagModel.unknownLegend), text)
        XCTAssertTrue(text.contains("4 not OK · 1 unknown"), text)
        XCTAssertEqual(LagModel.lag(nil), "?")
        XCTAssertEqual(LagModel.lag(1_200, lowerBound: true), "≥1,200", "a total that leaves out unknown partitions says so")
        let queue = lines.first { $0.contains("mail.q") } ?? ""
        XCTAssertTrue(queue.contains(" 12 "), queue)
        XCTAssertTrue(queue.contains(" ? "), "no head message timestamp: time behind not reported: \(queue)")
        XCTAssertFalse(queue.contains("no offsets"), queue)

        // The drill-down: a queue has no offsets and no log end, and says so rather than 0 or "none".
        state.lagCursor.selectedKey = "mail.q"
        Reducer.reduce(&state, .key(.enter))
        let rows = Screen.render(state, theme: .fallback).plainText.split(separator: "\n").map(String.init)
        let row = try XCTUnwrap(rows.first { $0.contains("mail.q") && $0.contains(" 12 ") })
        XCTAssertFalse(row.contains("none"), row)
        XCTAssertTrue(row.contains("–"), row)
        Reducer.reduce(&state, .key(.char("t")))
        let seconds = Screen.render(state, theme: .fallback).plainText.split(separator: "\n").map(String.init)
        let behind = try XCTUnwrap(seconds.first { $0.hasPrefix("│ mail.q") })
        XCTAssertTrue(behind.contains(" ? "), behind)
    }

    func testLagGolden80x24() {
        assertGolden(Screen.render(lagState(width: 80, height: 24), theme: .fallback), "lag-80x24")
    }

    func testLagGolden160x48() {
        assertGolden(Screen.render(lagState(width: 160, height: 48), theme: .fallback), "lag-160x48")
    }

    func testDrillDownShowsTheStalledPartitionFirst() throws {
        var state = lagState(width: 100, height: 30)
        state.lagCursor.selectedKey = "inventory-service"
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .groupPartitions(group: "inventory-service"))
        let rows = LagModel.partitionRows(state, group: "inventory-service")
        XCTAssertEqual(rows.first.map(LagModel.key), "payments/1")
        XCTAssertEqual(rows.first?.status, .stall)
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("inventory-service · STALL · 2 members"), text)
        assertGolden(Screen.render(state, theme: .fallback), "group-inventory-100x30")
    }

    func testDrillDownGolden80x24AndSecondsToggle() {
        var state = lagState(width: 80, height: 24)
        state.lagCursor.selectedKey = "order-service"
        Reducer.reduce(&state, .key(.enter))
        assertGolden(Screen.render(state, theme: .fallback), "group-order-80x24")
        Reducer.reduce(&state, .key(.char("t")))
        XCTAssertTrue(state.lagInSeconds)
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("BEHIND"), text)
        assertGolden(Screen.render(state, theme: .fallback), "group-order-80x24-seconds")
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .lag)
    }

    func testDrillDownGolden160x48() {
        var state = lagState(width: 160, height: 48)
        state.lagCursor.selectedKey = "shipping-service"
        Reducer.reduce(&state, .key(.enter))
        assertGolden(Screen.render(state, theme: .fallback), "group-shipping-160x48")
    }

    func testLagFilterMatchesStatusAndTopics() {
        var state = lagState(width: 100, height: 30)
        state.filters["lag"] = "stall|stop"
        XCTAssertEqual(Set(LagModel.rows(state).map(\.id)), ["inventory-service", "order-service"])
        state.filters["lag"] = "inventory"
        XCTAssertEqual(Set(LagModel.rows(state).map(\.id)), ["inventory-service", "shipping-service"])
    }

    func testSortCycleInLagView() {
        var state = lagState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("s")))
        XCTAssertEqual(state.lagSort, .group)
        XCTAssertEqual(LagModel.rows(state).first?.id, "audit-archiver")
        Reducer.reduce(&state, .key(.char("s")))
        XCTAssertEqual(state.lagSort, .lag)
    }
}

/// No data is never "all OK" (issue 14 §1): before the first snapshot the title says "no data", and a
/// source that is down says since when and why.
final class LagNoDataTests: XCTestCase {
    func testNoSnapshotIsNoDataNeverAllOK() {
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        var state = AppState(source: "kafka://127.0.0.1:1", now: start, size: Size(width: 100, height: 12))
        Reducer.reduce(&state, .key(.char("2")))
        var text = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(text.contains("all OK"), text)
        XCTAssertTrue(text.contains("no data"), text)
        XCTAssertTrue(text.contains("waiting for the first snapshot"), text)

        Reducer.reduce(&state, .sourceFailed("no metadata from 127.0.0.1:1"))
        Reducer.reduce(&state, .tick(start.addingTimeInterval(130)))
        text = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(text.contains("all OK"), text)
        XCTAssertTrue(text.contains("no data: the source is down since"), text)
        XCTAssertTrue(text.contains("2m 10s"), text)
        XCTAssertTrue(text.contains("no metadata from 127.0.0.1:1"), text)

        // A snapshot without groups is "no groups", not OK either; the outage clock stops.
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: start.addingTimeInterval(131), topics: [], groups: [])))
        text = Screen.render(state, theme: .fallback).plainText
        XCTAssertNil(state.downSince)
        XCTAssertFalse(text.contains("all OK"), text)
        XCTAssertTrue(text.contains("no groups"), text)
    }
}

/// At 20×5 the lag view keeps STATUS and gives the group name the rest (issue 14 item 15).
final class LagTinyTerminalTests: XCTestCase {
    func testStatusSurvivesANarrowTerminal() {
        var state = Fixtures.liveState(width: 20, height: 5)
        Reducer.reduce(&state, .key(.char("2")))
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("STATUS") || text.contains("STATU"), text)
        let statuses = ["OK", "WARN", "STALL", "STOP", "REWIND", "ERR"]
        XCTAssertTrue(statuses.contains { text.contains($0) }, text)
    }
}
