import Dashboard
import EventModel
import Foundation
import TerminalUI
import XCTest

/// View 5: findings graded, errors first, the highlighted one's evidence below, each openable.
final class InsightsViewTests: XCTestCase {
    static let t0 = Int64(Fixtures.end.timeIntervalSince1970 * 1000)

    /// The live fixture, with records sampled (a duplicate, a fat event, two versions of one type, a command
    /// name), a DLQ letter that was requeued and failed again, and sagas.
    static func state(width: Int, height: Int) -> AppState {
        var state = Fixtures.liveState(width: width, height: height)
        var records: [InsightRecord] = []
        for i in 0..<60 {
            let position = RecordPosition(topic: "orders", partition: Int32(i % 3), offset: Int64(1_000 + i))
            let version: String = i % 10 == 0 ? "2" : "1"
            records.append(InsightRecord(position: position, timestampMillis: t0 - 1_000 + Int64(i), eventID: "e-\(i)", correlationID: "ord-\(i)",
                                         eventType: "OrderPlaced", schemaVersion: version, fields: ["eventId", "orderId"], valueBytes: 300))
        }
        records.append(InsightRecord(position: RecordPosition(topic: "orders", partition: 1, offset: 1_100), timestampMillis: t0, eventID: "e-7",
                                     correlationID: "ord-7", eventType: "OrderPlaced", schemaVersion: "1", fields: ["eventId", "orderId"]))
        records.append(InsightRecord(position: RecordPosition(topic: "orders", partition: 2, offset: 1_101), timestampMillis: t0, eventID: "e-big",
                                     correlationID: "ord-61", eventType: "OrderPlaced", schemaVersion: "1", fields: ["eventId", "orderId"], valueBytes: 187_000))
        records.append(InsightRecord(position: RecordPosition(topic: "orders", partition: 0, offset: 1_102), timestampMillis: t0, eventID: "e-cmd",
                                     correlationID: "ord-62", eventType: "ReserveInventory", schemaVersion: "1", fields: ["eventId", "orderId"]))
        Reducer.reduce(&state, .insightsSampled(records))
        let letter = Record(topic: "orders.DLT", partition: 0, offset: 4, timestampMillis: t0, key: nil,
                            headers: [RecordHeader("kafka_dlt-original-topic", "orders"), RecordHeader("evtop-redrive-id", "orders.DLT/0/1")],
                            value: Array("{}".utf8))
        Reducer.reduce(&state, .deadLettersLoaded(topic: "orders.DLT", letters: [DeadLetterParser.parse(letter)]))
        let sagas = (0..<30).map { i in
            SagaListRow(id: "ord-\(i)", type: "OrderSaga", state: i < 8 ? .compensated : .completed, startMillis: t0 - 5_000, lastMillis: t0 - Int64(i),
                        stepsDone: 3, stepsTotal: 4, lastEvent: "OrderShipped", services: [], items: 4)
        }
        Reducer.reduce(&state, .sagasLoaded(sagas, note: nil))
        Reducer.reduce(&state, .key(.char("5")))
        return state
    }

    func testTheFindingsAreGradedErrorsFirstWithTheEvidenceBelow() {
        let state = Self.state(width: 160, height: 48)
        XCTAssertEqual(state.view, InsightsModel.view)
        let rows = InsightsModel.rows(state)
        XCTAssertEqual(rows.first?.severity, .error)
        // The fixture's audit-archiver rewinds: reprocessed, from the figures alone.
        XCTAssertEqual(Set(rows.map(\.rule)), [.duplicateEvents, .poisonLoop, .fatEvents, .schemaDrift, .commandNamed, .failingSagas, .reprocessed])
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("Insights · grade"), text)
        XCTAssertTrue(text.contains("2 errors"), text)
        XCTAssertTrue(text.contains("├ evidence"), text)
        assertGolden(Screen.render(state, theme: .fallback), "insights-160x48")
        assertGolden(Screen.render(Self.state(width: 80, height: 24), theme: .fallback), "insights-80x24")
    }

    func testNoSampleIsNoDataNeverAGrade() {
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.reduce(&state, .key(.char("5")))
        let text = Screen.render(state, theme: .fallback).plainText
        // The rewinding group is a finding from the figures alone; but nothing sampled proves health: no grade.
        XCTAssertTrue(text.contains("Insights · no grade: no record sampled · 0 errors · 1 warning"), text)
        XCTAssertFalse(text.contains("grade A"), text)
        var empty = AppState(source: "kafka://127.0.0.1:1", now: Fixtures.end, size: Size(width: 100, height: 30))
        Reducer.reduce(&empty, .key(.char("5")))
        XCTAssertTrue(Screen.render(empty, theme: .fallback).plainText.contains("waiting for the first snapshot"))
    }

    func testEnterOpensTheSelectedEvidence() throws {
        var state = Self.state(width: 160, height: 48)
        // The poison loop's evidence is a letter: enter opens it.
        let poison = try XCTUnwrap(InsightsModel.rows(state).firstIndex { $0.rule == .poisonLoop })
        Reducer.reduce(&state, .key(.char("g")))
        for _ in 0..<poison { Reducer.reduce(&state, .key(.char("j"))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterDetail(topic: "orders.DLT", partition: 0, offset: 4))
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, InsightsModel.view)

        // A duplicate's evidence is a record with a correlation id: enter opens its saga.
        let duplicate = try XCTUnwrap(InsightsModel.rows(state).firstIndex { $0.rule == .duplicateEvents })
        Reducer.reduce(&state, .key(.char("g")))
        for _ in 0..<duplicate { Reducer.reduce(&state, .key(.char("j"))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .sagaTimeline(id: "ord-7"))
        Reducer.reduce(&state, .key(.escape))

        // J picks the next evidence: the failing sagas' second saga.
        let failing = try XCTUnwrap(InsightsModel.rows(state).firstIndex { $0.rule == .failingSagas })
        Reducer.reduce(&state, .key(.char("g")))
        for _ in 0..<failing { Reducer.reduce(&state, .key(.char("j"))) }
        Reducer.reduce(&state, .key(.char("J")))
        let second = try XCTUnwrap(InsightsModel.rows(state)[failing].evidence[1])
        Reducer.reduce(&state, .key(.enter))
        guard case .saga(let id) = second.target else { return XCTFail("expected a saga: \(second)") }
        XCTAssertEqual(state.view, .sagaTimeline(id: id))
    }

    func testTheFilterAndSortWork() {
        var state = Self.state(width: 120, height: 40)
        state.filters[InsightsModel.view.name] = "fat"
        XCTAssertEqual(InsightsModel.rows(state).map(\.rule), [.fatEvents])
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("1/7 shown"))
        state.filters[InsightsModel.view.name] = nil
        Reducer.reduce(&state, .key(.char("s")))
        let rules = InsightsModel.rows(state).map(\.rule.rawValue)
        XCTAssertEqual(rules, rules.sorted())
    }

    func testATinyTerminalStillSaysSomething() {
        let state = Self.state(width: 20, height: 5)
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        assertGolden(Screen.render(state, theme: .fallback), "insights-20x5")
    }
}
