import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

final class ReducerTests: XCTestCase {
    func testSelectionFollowsTopicWhenRowsResort() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("j")))
        let chosen = state.topicsCursor.selectedKey
        XCTAssertNotNil(chosen)
        // Resort by name: the same topic stays selected.
        state.topicSort = .name
        state.topicSortDescending = false
        let keys = TopicsModel.rows(state).map(\.name)
        XCTAssertEqual(keys[Reducer.selectedIndex(state.topicsCursor, keys: keys)], chosen)
    }

    func testMovementClampsAtEnds() {
        var state = Fixtures.liveState(width: 100, height: 30)
        let count = TopicsModel.rows(state).count
        Reducer.reduce(&state, .key(.char("G")))
        Reducer.reduce(&state, .key(.char("j")))
        XCTAssertEqual(state.topicsCursor.selectedKey, TopicsModel.rows(state).last?.name)
        Reducer.reduce(&state, .key(.pageUp))
        Reducer.reduce(&state, .key(.char("g")))
        XCTAssertEqual(state.topicsCursor.selectedKey, TopicsModel.rows(state).first?.name)
        XCTAssertGreaterThan(count, 3)
    }

    func testFilterAppliesWhileTypingAndEscClears() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("/")))
        for c in "dlt" { Reducer.reduce(&state, .key(.char(c))) }
        XCTAssertEqual(Set(TopicsModel.rows(state).map(\.name)), ["orders.DLT", "payments.DLT"])
        Reducer.reduce(&state, .key(.enter))
        XCTAssertNil(state.prompt)
        XCTAssertEqual(state.currentFilter, "dlt")
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.currentFilter, "")
        XCTAssertEqual(TopicsModel.rows(state).count, Fixtures.topicSpecs.count)
    }

    func testInvertedAndRegexFilters() {
        var state = Fixtures.liveState(width: 100, height: 30)
        state.filters["topics"] = "!\\.DLT$"
        XCTAssertFalse(TopicsModel.rows(state).contains { $0.name.hasSuffix(".DLT") })
        state.filters["topics"] = "^(orders|payments)$"
        XCTAssertEqual(Set(TopicsModel.rows(state).map(\.name)), ["orders", "payments"])
        state.filters["topics"] = "[unclosed"
        XCTAssertEqual(TopicsModel.rows(state).count, 0, "invalid regex falls back to a plain substring match")
    }

    func testEnterDrillsIntoPartitionsAndEscReturns() {
        var state = Fixtures.liveState(width: 100, height: 30)
        state.topicsCursor.selectedKey = "orders"
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .partitions(topic: "orders"))
        XCTAssertEqual(TopicsModel.partitionRows(state, topic: "orders").count, 3)
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .topics)
    }

    func testCommands() {
        var state = Fixtures.liveState(width: 100, height: 30)
        XCTAssertEqual(Reducer.runCommand(&state, "theme light"), [.loadTheme("light")])
        XCTAssertEqual(Reducer.runCommand(&state, "follow ord-7f3a"), [.follow("ord-7f3a")])
        _ = Reducer.runCommand(&state, "bogus")
        XCTAssertEqual(state.message?.level, .error)
        _ = Reducer.runCommand(&state, "q")
        XCTAssertTrue(state.shouldQuit)
    }

    func testCommandLineTyping() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char(":")))
        for c in "theme mono" { Reducer.reduce(&state, .key(.char(c))) }
        Reducer.reduce(&state, .key(.backspace))
        let effects = Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(effects, [.loadTheme("mon")])
    }

    func testSortCycleAndReverse() {
        var state = Fixtures.liveState(width: 100, height: 30)
        XCTAssertEqual(state.topicSort, .rate10)
        Reducer.reduce(&state, .key(.char("s")))
        XCTAssertEqual(state.topicSort, .rate60)
        Reducer.reduce(&state, .key(.char("s")))
        Reducer.reduce(&state, .key(.char("s")))
        XCTAssertEqual(state.topicSort, .name)
        XCTAssertFalse(state.topicSortDescending)
        XCTAssertEqual(TopicsModel.rows(state).first?.name, "audit-log-with-a-rather-long-topic-name.v2")
        Reducer.reduce(&state, .key(.char("S")))
        XCTAssertEqual(TopicsModel.rows(state).first?.name, "shipments")
    }

    /// Sorting goes to the top (issue 14 item 10): scrolled down, the rows a new order puts first stay in sight.
    func testSortingGoesToTheTop() {
        var state = Fixtures.liveState(width: 100, height: 8)
        Reducer.reduce(&state, .key(.char("G")))
        XCTAssertGreaterThan(state.topicsCursor.scroll, 0, "scrolled down first")
        Reducer.reduce(&state, .key(.char("s")))
        XCTAssertEqual(state.topicsCursor.scroll, 0)
        XCTAssertEqual(Reducer.selectedIndex(state.topicsCursor, keys: TopicsModel.rows(state).map(\.name)), 0)
        Reducer.reduce(&state, .key(.char("G")))
        Reducer.reduce(&state, .key(.char("S")))
        XCTAssertEqual(state.topicsCursor.scroll, 0)
        XCTAssertEqual(Reducer.selectedIndex(state.topicsCursor, keys: TopicsModel.rows(state).map(\.name)), 0)
    }

    func testHelpClosesOnAnyKey() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("?")))
        XCTAssertTrue(state.showHelp)
        Reducer.reduce(&state, .key(.char("x")))
        XCTAssertFalse(state.showHelp)
        XCTAssertFalse(state.shouldQuit)
    }

    func testMessagesExpire() {
        var state = Fixtures.liveState(width: 100, height: 30)
        _ = Reducer.runCommand(&state, "no-such-command")
        XCTAssertNotNil(state.message)
        Reducer.reduce(&state, .tick(state.now.addingTimeInterval(10)))
        XCTAssertNil(state.message)
    }

    func testThroughputMatchesWatermarkDeltas() throws {
        let state = Fixtures.liveState(width: 100, height: 30)
        let orders = try XCTUnwrap(TopicsModel.rows(state).first { $0.name == "orders" })
        func total(_ t: Double) -> Int64 {
            Fixtures.snapshot(at: t).topics.first { $0.name == "orders" }?.totalHigh ?? 0
        }
        let expected10 = Double(total(0) - total(-10)) / 10
        let expected1 = Double(total(0) - total(-1))
        XCTAssertEqual(try XCTUnwrap(orders.rates.perSecond10), expected10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(orders.rates.perSecond1), expected1, accuracy: 1e-9)
        XCTAssertGreaterThan(expected10, 0)
        XCTAssertEqual(orders.groups, 2)
    }
}

/// A view's message stays with it (issue 14 item 15): leaving the timeline takes "following: …" away.
final class MessageScopeTests: XCTestCase {
    func testLeavingAViewClearsItsMessage() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.openSaga(&state, "ord-1", following: false)
        Reducer.reduce(&state, .key(.char("f")))
        XCTAssertEqual(state.message?.text.hasPrefix("following"), true)
        Reducer.reduce(&state, .key(.escape))
        XCTAssertNotEqual(state.view, .sagaTimeline(id: "ord-1"))
        XCTAssertNil(state.message)
        // A message the action itself says stays (":dlq" switches and nothing is said; a bad command is said).
        Reducer.reduce(&state, .key(.char(":")))
        for c in "nope" { Reducer.reduce(&state, .key(.char(c))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.message?.level, .error)
    }
}
