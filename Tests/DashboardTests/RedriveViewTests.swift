import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// Marks, the confirm dialog, progress and the outcome, driven through the reducer.
final class RedriveViewTests: XCTestCase {
    /// The letter list of orders.DLT at a size.
    func listState(width: Int = 100, height: Int = 30) -> AppState {
        var state = DeadLetterFixtures.state(width: width, height: height)
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"))
        return state
    }

    func testSpaceMarksAndMovesDownAndRRequeuesTheMarkedOldestFirst() throws {
        var state = listState()
        Reducer.reduce(&state, .key(.char(" ")))
        Reducer.reduce(&state, .key(.char(" ")))
        Reducer.reduce(&state, .key(.char(" ")))
        XCTAssertEqual(state.marks["orders.DLT"], ["0/14", "0/13", "0/12"])
        Reducer.reduce(&state, .key(.char("k")))
        Reducer.reduce(&state, .key(.char(" "))) // unmark 0/12
        XCTAssertEqual(state.marks["orders.DLT"], ["0/14", "0/13"])
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("r"))), [])
        let dialog = try XCTUnwrap(state.redrive)
        XCTAssertEqual(dialog.positions.map(\.offset), [13, 14], "oldest first")
        XCTAssertEqual(dialog.selection, "2 marked")
        XCTAssertEqual(dialog.targets, ["orders": 2])
        XCTAssertEqual(dialog.rate, 100)
        // Rate presets and dry run.
        Reducer.reduce(&state, .key(.char("+")))
        XCTAssertEqual(state.redrive?.rate, 500)
        Reducer.reduce(&state, .key(.char("d")))
        XCTAssertEqual(state.redrive?.dryRun, true)
        Reducer.reduce(&state, .key(.char("d")))
        let effects = Reducer.reduce(&state, .key(.enter))
        guard case .startRedrive(let request)? = effects.first else { return XCTFail("no start effect: \(effects)") }
        XCTAssertEqual(request.positions.map(\.offset), [13, 14])
        XCTAssertEqual(request.ratePerSecond, 500)
        XCTAssertFalse(request.dryRun)
        XCTAssertNil(state.marks["orders.DLT"], "marks are spent when the job starts")
        XCTAssertTrue(state.redrive?.isRunning ?? false)
    }

    func testRWithoutMarksTakesTheHighlightedLetterAndEscCloses() {
        var state = listState()
        Reducer.reduce(&state, .key(.char("j")))
        Reducer.reduce(&state, .key(.char("r")))
        XCTAssertEqual(state.redrive?.positions.map(\.offset), [13])
        Reducer.reduce(&state, .key(.escape))
        XCTAssertNil(state.redrive)
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"), "esc closes the dialog, not the view")
    }

    func testCapitalRTakesEverythingTheFilterShows() {
        var state = listState()
        for c in "/JsonParse" { Reducer.reduce(&state, .key(.char(c))) }
        Reducer.reduce(&state, .key(.enter))
        let shown = DeadLetterModel.letterRows(state, topic: "orders.DLT").count
        XCTAssertGreaterThan(shown, 0)
        XCTAssertLessThan(shown, 15)
        Reducer.reduce(&state, .key(.char("R")))
        XCTAssertEqual(state.redrive?.positions.count, shown)
        XCTAssertEqual(state.redrive?.selection, "all \(shown) matching /JsonParse/")
    }

    func testTargetOverrideThroughThePrompt() {
        var state = listState()
        Reducer.reduce(&state, .key(.char("R")))
        Reducer.reduce(&state, .key(.char("t")))
        XCTAssertEqual(state.prompt?.kind, .redriveTarget)
        for c in "orders-retry" { Reducer.reduce(&state, .key(.char(c))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.redrive?.targetOverride, "orders-retry")
        XCTAssertEqual(state.redrive?.targets, ["orders-retry": 15])
        let text = RedriveModel.dialog(state.redrive!, state: state).0.lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("orders-retry ×15 (no such topic!)"), text)
    }

    func testReadOnlyRefuses() {
        var state = listState()
        state.readOnly = true
        Reducer.reduce(&state, .key(.char("r")))
        XCTAssertNil(state.redrive)
        XCTAssertTrue(state.message?.text.contains("read-only") ?? false)
    }

    func testStateFollowsTheJournalWhileTheJobRunsAndWaitingReplacesTheETA() throws {
        var state = listState()
        Reducer.reduce(&state, .key(.char("R")))
        Reducer.reduce(&state, .key(.enter))
        let first = Reducer.reduce(&state, .redriveProgress(RedriveProgress(jobID: "rd-1", total: 15, moved: 6, failed: 0, skipped: 0,
                                                                            ratePerSecond: 100, etaSeconds: 0.09)))
        guard case .loadRedriveStates(let topic, _, _)? = first.first else { return XCTFail("a landed batch re-reads STATE: \(first)") }
        XCTAssertEqual(topic, "orders.DLT")
        let waiting = RedriveProgress(jobID: "rd-1", total: 15, moved: 6, failed: 0, skipped: 0, ratePerSecond: 100, etaSeconds: 0.09,
                                      waiting: "waiting for the broker since 12:03:41 (4 s)")
        XCTAssertEqual(Reducer.reduce(&state, .redriveProgress(waiting)).count, 1, "starting to wait re-reads STATE (letters in flight: moving)")
        XCTAssertEqual(Reducer.reduce(&state, .redriveProgress(waiting)), [], "nothing changed: no re-read")
        let screen = RedriveModel.dialog(try XCTUnwrap(state.redrive), state: state)
        XCTAssertTrue(screen.0.lines.contains("waiting for the broker since 12:03:41 (4 s)"), "\(screen.0.lines)")
        XCTAssertFalse(screen.1?.label.contains("ETA") ?? true, "no ETA while the broker does not answer: \(String(describing: screen.1?.label))")
    }

    func testProgressCancelAndFinishAndJournalStates() throws {
        var state = listState()
        Reducer.reduce(&state, .key(.char("R")))
        Reducer.reduce(&state, .key(.enter))
        Reducer.reduce(&state, .redriveProgress(RedriveProgress(jobID: "rd-1", total: 15, moved: 6, failed: 0, skipped: 0,
                                                                ratePerSecond: 100, etaSeconds: 0.09)))
        guard case .running(let p)? = state.redrive?.phase else { return XCTFail("not running") }
        XCTAssertEqual(p?.moved, 6)
        // esc asks the job to stop, once; esc again does nothing more.
        XCTAssertEqual(Reducer.reduce(&state, .key(.escape)), [.cancelRedrive])
        XCTAssertEqual(Reducer.reduce(&state, .key(.escape)), [])
        XCTAssertFalse(state.shouldQuit)
        // q (or ctrl-c) after a cancel quits at once: the journal finishes the job next start.
        var impatient = state
        Reducer.reduce(&impatient, .key(.char("q")))
        XCTAssertTrue(impatient.shouldQuit)
        let report = RedriveReport(jobID: "rd-1", selected: 15, moved: 7, skipped: 0, failures: [], failed: 0,
                                   targets: ["orders": 7], cancelled: true, dryRun: false)
        let effects = Reducer.reduce(&state, .redriveFinished(report))
        guard case .loadRedriveStates(let topic, let positions, let timestamps)? = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(topic, "orders.DLT")
        XCTAssertEqual(positions.count, 15)
        XCTAssertEqual(Set(timestamps.keys), Set(positions), "each letter's timestamp rides along: it is part of its redrive id")
        // The journal says which moved: rows show it, and R leaves them out next time.
        let moved = Dictionary(uniqueKeysWithValues: positions.prefix(7).map { ($0, RedriveItemState.done) })
        Reducer.reduce(&state, .redriveStatesLoaded(topic: "orders.DLT", states: moved))
        XCTAssertEqual(state.deadLetterRows["orders.DLT"]?.filter { $0.state == "redriven" }.count, 7)
        // The letter's detail says what its row says (issue 14 item 9): not "pending" once the journal has it done.
        if let done = positions.first, let letter = DeadLetterModel.letter(state, topic: "orders.DLT", partition: done.partition, offset: done.offset) {
            let detail = DeadLetterModel.detailLines(letter, state: state).map(\.text).joined(separator: "\n")
            XCTAssertTrue(detail.contains("redriven"), detail)
            XCTAssertFalse(detail.contains("pending"), detail)
        } else {
            XCTFail("the moved letter is loaded")
        }
        Reducer.reduce(&state, .key(.char("x"))) // any key closes the report
        XCTAssertNil(state.redrive)
        Reducer.reduce(&state, .key(.char("R")))
        XCTAssertEqual(state.redrive?.positions.count, 8)
        XCTAssertTrue(state.redrive?.selection.contains("all 8") ?? false, state.redrive?.selection ?? "")
        // With requeued letters shown, R takes the rows shown and says what it left out.
        state.redrive = nil
        Reducer.reduce(&state, .key(.char("H")))
        Reducer.reduce(&state, .key(.char("R")))
        XCTAssertEqual(state.redrive?.positions.count, 8)
        XCTAssertTrue(state.redrive?.selection.contains("7 already requeued") ?? false, state.redrive?.selection ?? "")
    }

    func testGoldenDialogs() {
        for (w, h) in [(80, 24), (100, 30)] {
            var state = listState(width: w, height: h)
            Reducer.reduce(&state, .key(.char(" ")))
            Reducer.reduce(&state, .key(.char(" ")))
            Reducer.reduce(&state, .key(.char("r")))
            assertGolden(Screen.render(state, theme: .fallback), "redrive-confirm-\(w)x\(h)")
            Reducer.reduce(&state, .key(.enter))
            Reducer.reduce(&state, .redriveProgress(RedriveProgress(jobID: "rd-1", total: 2, moved: 1, failed: 0, skipped: 0,
                                                                    ratePerSecond: 98.5, etaSeconds: 0.01)))
            assertGolden(Screen.render(state, theme: .fallback), "redrive-progress-\(w)x\(h)")
            Reducer.reduce(&state, .redriveFinished(RedriveReport(
                jobID: "rd-1", selected: 2, moved: 1, skipped: 0,
                failures: [.init(redriveID: "orders.DLT/0/13", reason: "target topic 'orders' does not exist")], failed: 1,
                targets: ["orders": 1], cancelled: false, dryRun: false)))
            assertGolden(Screen.render(state, theme: .fallback), "redrive-done-\(w)x\(h)")
        }
        // A terminal too small for the dialog still draws without trapping.
        var tiny = listState(width: 20, height: 5)
        Reducer.reduce(&tiny, .key(.char("r")))
        assertGolden(Screen.render(tiny, theme: .fallback), "redrive-confirm-20x5")
    }

    func testTopicsWithDeadLetterHeadersButNoPatternNameAreProbedOnceAndBecomeDLQs() {
        var state = Fixtures.liveState(width: 100, height: 30)
        var snapshot = state.snapshot!
        snapshot.time = snapshot.time.addingTimeInterval(1)
        snapshot.topics.append(TopicInfo(name: "payment-failures", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 4)]))
        snapshot.topics.append(TopicInfo(name: "empty-one", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 0)]))
        let effects = Reducer.reduce(&state, .snapshot(snapshot))
        XCTAssertTrue(effects.contains(.probeDeadLetterTopics(["payment-failures"])), "\(effects)")
        // Probed once: the next snapshot asks nothing more.
        snapshot.time = snapshot.time.addingTimeInterval(1)
        XCTAssertFalse(Reducer.reduce(&state, .snapshot(snapshot)).contains { if case .probeDeadLetterTopics = $0 { return true }; return false })
        XCTAssertFalse(DeadLetterModel.deadLetterTopics(state).map(\.name).contains("payment-failures"))
        Reducer.reduce(&state, .deadLetterTopicsDetected(["payment-failures"]))
        XCTAssertTrue(DeadLetterModel.deadLetterTopics(state).map(\.name).contains("payment-failures"))
        XCTAssertTrue(TopicsModel.cachedRows(state).first { $0.name == "payment-failures" }?.isDeadLetter ?? false)
    }

    func testHasDeadLetterHeaders() {
        let spring = Record(topic: "x", partition: 0, offset: 0, timestampMillis: 0, key: nil,
                            headers: [RecordHeader("kafka_dlt-original-topic", "orders")], value: nil)
        let connect = Record(topic: "x", partition: 0, offset: 0, timestampMillis: 0, key: nil,
                             headers: [RecordHeader("__connect.errors.topic", "orders")], value: nil)
        let plain = Record(topic: "x", partition: 0, offset: 0, timestampMillis: 0, key: nil,
                           headers: [RecordHeader("evtop-redrive-id", "a/0/1"), RecordHeader("correlation-id", "c")], value: nil)
        XCTAssertTrue(DeadLetterParser.hasDeadLetterHeaders(spring))
        XCTAssertTrue(DeadLetterParser.hasDeadLetterHeaders(connect))
        XCTAssertFalse(DeadLetterParser.hasDeadLetterHeaders(plain), "a redriven message is not a dead letter")
    }
}
