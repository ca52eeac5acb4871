import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

final class TopicsScreenTests: XCTestCase {
    func testTopicsGolden80x24() {
        let state = Fixtures.liveState(width: 80, height: 24)
        assertGolden(Screen.render(state, theme: .fallback), "topics-80x24")
    }

    func testTopicsGolden160x48() {
        let state = Fixtures.liveState(width: 160, height: 48)
        assertGolden(Screen.render(state, theme: .fallback), "topics-160x48")
    }

    func testTopicsGolden100x30() {
        let state = Fixtures.liveState(width: 100, height: 30)
        assertGolden(Screen.render(state, theme: .fallback), "topics-100x30")
    }

    func testPartitionsGolden80x24() {
        var state = Fixtures.liveState(width: 80, height: 24)
        state.view = .partitions(topic: "orders")
        assertGolden(Screen.render(state, theme: .fallback), "partitions-orders-80x24")
    }

    func testPartitionsOfAKafkaTopicShowLeadersReplicasAndISR() {
        // Kafka reports leaders and replicas: partition 1's leader is down, partition 2 is under-replicated.
        var state = Fixtures.liveState(width: 100, height: 24)
        guard var snapshot = state.snapshot, let t = snapshot.topics.firstIndex(where: { $0.name == "orders" }) else { return XCTFail("no orders") }
        for i in snapshot.topics[t].partitions.indices {
            let p = Int32(i)
            snapshot.topics[t].partitions[i].leader = p % 3 + 1
            snapshot.topics[t].partitions[i].replicas = [1, 2, 3]
            snapshot.topics[t].partitions[i].inSyncReplicas = p == 2 ? [3] : [1, 2, 3]
        }
        snapshot.brokers = BrokerAvailability(total: 3, down: [2])
        Reducer.reduce(&state, .snapshot(snapshot))
        state.view = .partitions(topic: "orders")
        let buffer = Screen.render(state, theme: .fallback)
        assertGolden(buffer, "partitions-kafka-100x24")
        let lines = buffer.lines
        let header = try? XCTUnwrap(lines.first { $0.contains("PARTITION") })
        XCTAssertTrue(header?.contains("LEADER ISR") ?? false, header ?? "")
        let row1 = lines.first { $0.hasPrefix("│         1 ") } ?? ""
        XCTAssertTrue(row1.contains("2 ✗ 1,2,3 "), row1)
        let row2 = lines.first { $0.hasPrefix("│         2 ") } ?? ""
        XCTAssertTrue(row2.contains("3 3 (1,2 out)"), row2)
        // Wide enough, the replicas get their own column.
        state.size = Size(width: 140, height: 24)
        let wide = Screen.render(state, theme: .fallback).lines.first { $0.contains("PARTITION") } ?? ""
        XCTAssertTrue(wide.contains("LEADER REPLICAS ISR"), wide)
        XCTAssertEqual(TopicsModel.replication(snapshot.topics[t].partitions[1], down: [2]).leaderRole, .connectionDown)
        XCTAssertEqual(TopicsModel.replication(snapshot.topics[t].partitions[2], down: [2]).inSyncRole, .lagWarn)
        XCTAssertNil(TopicsModel.replication(snapshot.topics[t].partitions[0], down: [2]).inSyncRole)
        var leaderless = snapshot.topics[t].partitions[0]
        leaderless.leader = nil
        XCTAssertEqual(TopicsModel.replication(leaderless, down: []).leader, "none")
        // The embedded store reports none of it, and its partitions view stays as it was.
        XCTAssertFalse(TopicsModel.hasReplication(Fixtures.liveState(width: 80, height: 24).snapshot?.topics.first ?? TopicInfo(name: "x", partitions: [])))
    }

    func testLongNamesAreCutInTheMiddleKeepingTheirEndsAndBadges() {
        var state = AppState(source: "kafka://k:9092", now: Fixtures.end, size: Size(width: 80, height: 12))
        let names = ["com.example.very-long-domain.orders", "com.example.very-long-domain.orders.DLT"]
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end, topics: names.map {
            TopicInfo(name: $0, partitions: [PartitionWatermarks(partition: 0, low: 0, high: 7)])
        }, groups: [])))
        let rows = Screen.render(state, theme: .fallback).lines.filter { $0.contains("com.") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertNotEqual(rows[0].prefix(20), rows[1].prefix(20), "the two names must not look alike:\n\(rows.joined(separator: "\n"))")
        XCTAssertTrue(rows.contains { $0.contains("DLT  DLQ") }, "the DLQ badge stays:\n\(rows.joined(separator: "\n"))")
        XCTAssertTrue(rows.contains { $0.contains("…") })
    }

    func testTheSortedColumnsHeaderFitsItsArrowAtEveryWidth() {
        for width in [80, 120, 200] {
            var state = Fixtures.liveState(width: width, height: 12)
            state.topicSort = .groups
            let header = Screen.render(state, theme: .fallback).lines[2]
            XCTAssertTrue(header.contains("GROUPS▼"), "\(width): \(header)")
        }
    }

    func testTheHeaderSaysDeadLettersAndTheKeyBarNeverCutsAHint() {
        let state = Fixtures.liveState(width: 80, height: 24)
        let lines = Screen.render(state, theme: .fallback).lines
        XCTAssertTrue(lines[0].contains("15 in DLQ"), lines[0])
        let bar = lines[lines.count - 1]
        XCTAssertFalse(bar.contains("…"), bar)
        let hints = StatusBar.keyHints(state).map { "\($0.0) \($0.1)" }
        let last = bar.trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(hints.contains { last.hasSuffix($0) }, "the bar ends with a whole hint: \(bar)")
    }

    func testSparklinesShareOneScaleNamedInTheirHeader() {
        let lines = Screen.render(Fixtures.liveState(width: 80, height: 24), theme: .fallback).lines
        XCTAssertTrue(lines[2].contains("1m █3,025/s"), lines[2])
        // A DLQ at 0.1/s beside a topic at 3,000/s: no full block.
        let dlt = lines.first { $0.contains("orders.DLT") } ?? ""
        XCTAssertFalse(dlt.contains("█"), dlt)
        let audit = lines.first { $0.contains("audit-l") } ?? ""
        XCTAssertTrue(audit.contains("█"), audit)
    }

    func testHeaderCountsAreSingularForOne() {
        var state = AppState(source: "kafka://k:9092", now: Fixtures.end, size: Size(width: 100, height: 10))
        let topic = TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 5)])
        let group = ConsumerGroup(id: "billing", state: "Stable", members: 1, offsets: [TopicPartition("orders", 0): 5])
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end, topics: [topic], groups: [group])))
        let header = Screen.render(state, theme: .fallback).lines.first ?? ""
        XCTAssertTrue(header.contains("1 topic · 1 group "), header)
    }

    func testHelpGolden80x24() {
        var state = Fixtures.liveState(width: 80, height: 24)
        Reducer.reduce(&state, .key(.char("?")))
        assertGolden(Screen.render(state, theme: .fallback), "help-80x24")
    }

    func testHelpScrollsToEveryBindingWhenItDoesNotFit() {
        var state = Fixtures.liveState(width: 80, height: 24)
        Reducer.reduce(&state, .key(.char("?")))
        XCTAssertFalse(Screen.render(state, theme: .fallback).plainText.contains("Requeue dialog"), "cut at 80×24")
        for _ in 0..<200 { Reducer.reduce(&state, .key(.char("j"))) }
        XCTAssertTrue(state.showHelp, "j scrolls help, it does not close it")
        let bottom = Screen.render(state, theme: .fallback).plainText
        for key in ["+ -", "rate limit up / down", "dry run on / off", ":record FILE"] {
            XCTAssertTrue(bottom.contains(key), "\(key) reachable by scrolling:\n\(bottom)")
        }
        XCTAssertTrue(bottom.contains("j k scroll"), "the border says where the reader is")
        Reducer.reduce(&state, .key(.char("x")))
        XCTAssertFalse(state.showHelp, "any other key closes")
        XCTAssertEqual(state.helpScroll, 0)
        // Where everything fits, j closes help as any key does.
        var wide = Fixtures.liveState(width: 240, height: 70)
        Reducer.reduce(&wide, .key(.char("?")))
        XCTAssertTrue(Screen.render(wide, theme: .fallback).plainText.contains("Requeue dialog"))
        Reducer.reduce(&wide, .key(.char("j")))
        XCTAssertFalse(wide.showHelp)
    }

    func testTinyTerminalsDoNotCrashAndKeepHeader() {
        for (w, h) in [(20, 5), (1, 1), (0, 0), (10, 2), (39, 7), (200, 3)] {
            let state = Fixtures.liveState(width: w, height: h)
            let buffer = Screen.render(state, theme: .fallback)
            XCTAssertEqual(buffer.width, w)
            XCTAssertEqual(buffer.height, h)
            if h >= 3 && w >= 20 {
                XCTAssertTrue(buffer.lines[0].contains("evtop"), "header at \(w)x\(h): \(buffer.lines[0])")
            }
        }
        assertGolden(Screen.render(Fixtures.liveState(width: 20, height: 5), theme: .fallback), "topics-20x5")
    }

    func testRatesAreRightAlignedWithSeparators() throws {
        let state = Fixtures.liveState(width: 100, height: 30)
        let lines = Screen.render(state, theme: .fallback).lines
        let audit = try XCTUnwrap(lines.first { $0.contains("audit-log") })
        XCTAssertTrue(audit.contains(","), "thousands separators in \(audit)")
        // The busiest topic sorts first under the default 10s/s descending sort.
        let firstRow = try XCTUnwrap(lines.firstIndex { $0.contains("TOPIC") }) + 1
        XCTAssertTrue(lines[firstRow].contains("audit-log"), lines[firstRow])
    }

    func testEscapeSequencesInTopicNamesAreNeverDrawnRaw() {
        var state = AppState(source: "sqlite:x", now: Fixtures.end, size: Size(width: 80, height: 10))
        let evil = TopicInfo(name: "evil\u{1b}[31mred\u{07}", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 5)])
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end, topics: [evil], groups: [])))
        let buffer = Screen.render(state, theme: .fallback)
        for cell in buffer.cells {
            XCTAssertFalse(cell.symbol.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "raw control in \(cell)")
        }
        XCTAssertTrue(buffer.plainText.contains("evil␛[31mred␇"), buffer.plainText)
    }

    func testEmptyStoreShowsHowToStart() {
        var state = AppState(source: "sqlite:x", now: Fixtures.end, size: Size(width: 100, height: 12))
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end, topics: [], groups: [])))
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("evtop demo"), text)
    }

    func testSourceDownShowsInHeader() {
        var state = Fixtures.liveState(width: 100, height: 12)
        Reducer.reduce(&state, .sourceFailed("database is locked"))
        XCTAssertTrue(Screen.render(state, theme: .fallback).lines[0].contains("down 0s: database is locked"))
        // Two minutes on: the header says for how long, and the figures say they are from before.
        Reducer.reduce(&state, .tick(Fixtures.end.addingTimeInterval(130)))
        let lines = Screen.render(state, theme: .fallback).lines
        XCTAssertTrue(lines[0].contains("down 2m 10s: database is locked"), lines[0])
        XCTAssertTrue(lines[1].contains("stale since 15:06:04"), lines[1])
    }

    func testALongOutageCauseIsCutBeforeItPushesTheClockOffAn80ColumnHeader() {
        var state = Fixtures.liveState(width: 80, height: 24)
        Reducer.reduce(&state, .sourceFailed("broker unavailable: no metadata from 127.0.0.1:1: Local: Broker transport failure (last error: Connect failed: Connection refused)"))
        Reducer.reduce(&state, .tick(Fixtures.end.addingTimeInterval(130)))
        let header = Screen.render(state, theme: .fallback).lines[0]
        XCTAssertTrue(header.contains("down 2m 10s: bro"), header)
        XCTAssertTrue(header.hasSuffix("15:08:14 "), "the clock keeps its place: \(header)")
        XCTAssertTrue(header.contains("6 topics") || header.contains("topics ·"), header)
    }

    func testSomeBrokersDownShowsAPartialOutageInHeader() throws {
        var state = Fixtures.liveState(width: 100, height: 30)
        var partial = try XCTUnwrap(state.snapshot)
        partial.brokers = BrokerAvailability(total: 3, down: [2])
        Reducer.reduce(&state, .snapshot(partial))
        let header = Screen.render(state, theme: .fallback).lines[0]
        XCTAssertTrue(header.contains("◐ 2/3 brokers"), header)
        XCTAssertFalse(header.contains("● live"), header)
        // Every broker back: live again.
        partial.brokers = BrokerAvailability(total: 3, down: [])
        Reducer.reduce(&state, .snapshot(partial))
        let back = Screen.render(state, theme: .fallback).lines[0]
        XCTAssertTrue(back.contains("● live") && !back.contains("brokers"), back)
    }

    func testPausedFreezesFigures() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("p")))
        let before = Screen.render(state, theme: .fallback).lines
        Reducer.reduce(&state, .snapshot(Fixtures.snapshot(at: 1)))
        let after = Screen.render(state, theme: .fallback).lines
        XCTAssertEqual(Array(before.dropFirst().dropLast()), Array(after.dropFirst().dropLast()))
        XCTAssertTrue(after[0].contains("PAUSED"))
    }
}
