import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// Hand-built sagas around `Fixtures.end`, one per state, assembled by the real assembler.
enum SagaFixtures {
    static let orderSaga = SagaDefinition(
        name: "OrderSaga", timeoutSeconds: 30,
        steps: [
            .init(name: "place-order", service: "order-service", topic: "orders", completedBy: ["OrderPlaced"], compensatedBy: ["OrderCancelled"]),
            .init(name: "authorize-payment", service: "payment-service", topic: "payments", completedBy: ["PaymentAuthorized"],
                  failedBy: ["PaymentDeclined"], compensatedBy: ["PaymentRefunded"]),
            .init(name: "reserve-inventory", service: "inventory-service", topic: "inventory", completedBy: ["InventoryReserved"],
                  failedBy: ["OutOfStock"], compensatedBy: ["InventoryReleased"]),
            .init(name: "ship", service: "shipping-service", topic: "shipments", completedBy: ["OrderShipped"], failedBy: ["ShipmentFailed"]),
        ],
        compensations: [.init(event: "PaymentRefunded", compensates: "authorize-payment"),
                        .init(event: "InventoryReleased", compensates: "reserve-inventory"),
                        .init(event: "OrderCancelled", compensates: "place-order")],
        terminalCompleted: ["OrderShipped"], terminalCompensated: ["OrderCancelled"])

    static let assembler = SagaAssembler(definitions: [orderSaga])
    static let topics = ["OrderPlaced": "orders", "OrderCancelled": "orders", "PaymentAuthorized": "payments", "PaymentDeclined": "payments",
                         "PaymentRefunded": "payments", "InventoryReserved": "inventory", "OutOfStock": "inventory",
                         "OrderShipped": "shipments", "ShipmentFailed": "shipments"]

    /// ms since the epoch, `seconds` relative to `Fixtures.end`.
    static func at(_ seconds: Double) -> Int64 { Int64(((Fixtures.end.timeIntervalSince1970 + seconds) * 1000).rounded()) }

    static func event(_ type: String, _ id: String, at seconds: Double, offset: Int64, extra: String = "") -> Record {
        Record(topic: topics[type] ?? "jobs", partition: 1, offset: offset, timestampMillis: at(seconds), key: Array(id.utf8),
               headers: [RecordHeader("correlation-id", id), RecordHeader("event-type", type), RecordHeader("schema-version", "1"),
                         RecordHeader("event-id", "e-\(offset)")],
               value: Array(#"{"correlationId":"\#(id)","eventType":"\#(type)","orderId":"\#(id)"\#(extra)}"#.utf8))
    }

    static func span(_ name: String, _ service: String, from: Double, to: Double, error: Bool = false, n: Int) -> EventModel.Span {
        EventModel.Span(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: String(format: "00f067aa0ba902%02x", n), service: service, name: name,
             kind: name.hasSuffix("publish") ? .producer : .consumer,
             startUnixNano: UInt64(at(from)) * 1_000_000, endUnixNano: UInt64(at(to)) * 1_000_000,
             status: SpanStatus(code: error ? .error : .ok, message: error ? "sku-42: 0 available" : ""),
             attributes: [SpanAttribute("messaging.message.conversation_id", .string("ord-7f3a")),
                          SpanAttribute("messaging.destination.name", .string("inventory"))],
             events: error ? [SpanEvent(timeUnixNano: UInt64(at(to)) * 1_000_000, name: "exception",
                                        attributes: [SpanAttribute("exception.type", .string("IllegalStateException"))])] : [])
    }

    /// The compensated order of the sketch: out of stock, payment refunded, order cancelled; spans before their events.
    static func compensated() -> SagaTimeline {
        let id = "ord-7f3a"
        let records = [
            event("OrderPlaced", id, at: -2.43, offset: 8_800, extra: #","note":"bell\u0007 \u001b[31mred""#),
            event("PaymentAuthorized", id, at: -1.98, offset: 8_805),
            event("OutOfStock", id, at: -1.52, offset: 8_812),
            event("PaymentRefunded", id, at: -0.71, offset: 8_820),
            event("OrderCancelled", id, at: -0.0, offset: 8_830),
        ]
        let spans = [
            span("orders publish", "order-service", from: -2.46, to: -2.43, n: 1),
            span("orders process", "payment-service", from: -2.40, to: -1.99, n: 2),
            span("payments process", "inventory-service", from: -1.95, to: -1.53, error: true, n: 3),
            span("inventory process", "payment-service", from: -1.50, to: -0.72, n: 4),
        ]
        return assembler.assemble(correlationID: id, records: records.shuffled(), spans: spans.shuffled(), now: Fixtures.end)
    }

    static func timelines() -> [SagaTimeline] {
        func t(_ id: String, _ steps: [(String, Double)]) -> SagaTimeline {
            assembler.assemble(correlationID: id, records: steps.enumerated().map { event($0.element.0, id, at: $0.element.1, offset: Int64(100 + $0.offset)) },
                               spans: [], now: Fixtures.end)
        }
        return [
            compensated(),
            t("ord-81c0", [("OrderPlaced", -9.2), ("PaymentAuthorized", -8.9), ("InventoryReserved", -8.1), ("OrderShipped", -6.0)]),
            t("ord-99d2", [("OrderPlaced", -4.0), ("PaymentDeclined", -3.7)]),
            t("ord-a001", [("OrderPlaced", -1.2), ("PaymentAuthorized", -0.8)]),
            t("ord-a002", [("OrderPlaced", -5.5), ("PaymentAuthorized", -5.1), ("OutOfStock", -4.6), ("PaymentRefunded", -4.0)]),
            t("ord-old1", [("OrderPlaced", -95), ("PaymentAuthorized", -94.5)]),
            plainJob(),
        ]
    }

    /// A saga no definition knows: inferred from names.
    static func plainJob() -> SagaTimeline {
        let records = [event("JobStarted", "job-17", at: -20, offset: 1), event("ExportFailed", "job-17", at: -19.5, offset: 2)]
        return assembler.assemble(correlationID: "job-17", records: records, spans: [], now: Fixtures.end)
    }

    /// The live fixture in the sagas list with the fixture sagas loaded.
    static func listState(width: Int, height: Int) -> AppState {
        var state = Fixtures.liveState(width: width, height: height)
        Reducer.reduce(&state, .key(.char("3")))
        Reducer.reduce(&state, .sagasLoaded(timelines().map(SagaListRow.init(timeline:)), note: "index"))
        return state
    }

    /// The compensated saga's timeline, opened from the list.
    static func timelineState(width: Int, height: Int) -> AppState {
        var state = listState(width: width, height: height)
        Reducer.reduce(&state, .key(.enter))  // newest started first: ord-a001? select ord-7f3a explicitly below
        state.view = .sagas
        state.backStack = []
        state.sagas.cursor = TableCursor(selectedKey: "ord-7f3a")
        Reducer.reduce(&state, .key(.enter))
        Reducer.reduce(&state, .sagaLoaded(compensated(), note: "index"))
        // Select the failure, as an operator would.
        for _ in 0..<20 { Reducer.reduce(&state, .key(.char("k"))) }
        for _ in 0..<(compensated().items.firstIndex { $0.label == "OutOfStock" } ?? 0) { Reducer.reduce(&state, .key(.char("j"))) }
        return state
    }
}

final class SagaViewTests: XCTestCase {
    func render(_ state: AppState) -> ScreenBuffer { Screen.render(state, theme: .fallback) }
    func text(_ state: AppState) -> String { render(state).lines.joined(separator: "\n") }

    func testListGoldens() {
        assertGolden(render(SagaFixtures.listState(width: 80, height: 24)), "sagas-80x24")
        assertGolden(render(SagaFixtures.listState(width: 100, height: 30)), "sagas-100x30")
        assertGolden(render(SagaFixtures.listState(width: 160, height: 48)), "sagas-160x48")
        assertGolden(render(SagaFixtures.listState(width: 20, height: 5)), "sagas-20x5")
    }

    func testTimelineGoldens() {
        assertGolden(render(SagaFixtures.timelineState(width: 80, height: 24)), "saga-80x24")
        assertGolden(render(SagaFixtures.timelineState(width: 100, height: 30)), "saga-100x30")
        assertGolden(render(SagaFixtures.timelineState(width: 160, height: 48)), "saga-160x48")
        assertGolden(render(SagaFixtures.timelineState(width: 20, height: 5)), "saga-20x5")
    }

    func testKey3SwitchesAndPlansOneListLoad() {
        var state = Fixtures.liveState(width: 80, height: 24)
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("3"))), [.loadSagas])
        XCTAssertEqual(state.view, .sagas)
        // While loading, no second request.
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now.addingTimeInterval(1))), [])
        XCTAssertEqual(Reducer.reduce(&state, .sagasLoaded([], note: "index")), [])
        XCTAssertTrue(text(state).contains("no records with a correlation ID yet"))
        // A snapshot with new records asks again.
        var snap = Fixtures.snapshot(at: 1)
        snap.topics[0].partitions[0].high += 10
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(snap)), [.loadSagas])
    }

    func testFollowOpensTheTimelineAndKeepsItLive() {
        var state = Fixtures.liveState(width: 80, height: 24)
        let effects = Reducer.runCommand(&state, "follow ord-7f3a")
        XCTAssertEqual(effects, [.follow("ord-7f3a")])
        XCTAssertEqual(state.view, .sagaTimeline(id: "ord-7f3a"))
        XCTAssertTrue(state.sagas.following)
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now)), [.loadSaga("ord-7f3a")])
        XCTAssertTrue(text(state).contains("loading saga ord-7f3a"), text(state))
        // An answer for another saga is dropped; the right one shows, the newest item selected.
        Reducer.reduce(&state, .sagaLoaded(SagaFixtures.plainJob(), note: nil))
        XCTAssertNil(state.sagas.timeline)
        Reducer.reduce(&state, .sagaLoaded(SagaFixtures.compensated(), note: "index"))
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "OrderCancelled")
        XCTAssertTrue(text(state).contains("● following"))
        // New records: reloaded; with `f` off, not any more.
        var snap = Fixtures.snapshot(at: 1)
        snap.topics[1].partitions[0].high += 3
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(snap)), [.loadSaga("ord-7f3a")])
        Reducer.reduce(&state, .sagaLoaded(SagaFixtures.compensated(), note: "index"))
        Reducer.reduce(&state, .key(.char("f")))
        XCTAssertFalse(state.sagas.following)
        snap.topics[1].partitions[0].high += 3
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(snap)), [])
        // esc goes back where :follow was typed.
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .topics)
    }

    func testATimelineLoadedWhileTheIndexCatchesUpIsAskedAgainUntilItIsSettled() {
        // Opened from a letter seconds after start: the index had not reached the saga yet.
        var state = Fixtures.liveState(width: 100, height: 30)
        Reducer.openSaga(&state, "ord-7f3a", following: false)
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now)), [.loadSaga("ord-7f3a")])
        let empty = SagaAssembler().assemble(correlationID: "ord-7f3a", records: [], spans: [], now: state.now)
        Reducer.reduce(&state, .sagaLoaded(empty, note: "indexing: starting", indexing: true))
        XCTAssertTrue(text(state).contains("ord-7f3a yet: the index is catching up"), text(state))
        // Not followed, yet asked again once due: the answer may grow.
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now)), [])
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now.addingTimeInterval(SagaModel.refreshSeconds))), [.loadSaga("ord-7f3a")])
        Reducer.reduce(&state, .sagaLoaded(SagaFixtures.compensated(), note: "index", indexing: false))
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "OrderCancelled")
        // Settled and not followed: frozen as before.
        XCTAssertEqual(Reducer.reduce(&state, .tick(state.now.addingTimeInterval(10 * SagaModel.refreshSeconds))), [])
    }

    func testEnterOpensTheHighlightedSagaAndJKWalkItems() {
        var state = SagaFixtures.listState(width: 100, height: 30)
        let rows = SagaModel.rows(state)
        Reducer.reduce(&state, .key(.char("j")))
        XCTAssertEqual(Reducer.reduce(&state, .key(.enter)), [.loadSaga(rows[1].id)])
        XCTAssertEqual(state.view, .sagaTimeline(id: rows[1].id))
        XCTAssertFalse(state.sagas.following)
        state = SagaFixtures.timelineState(width: 100, height: 30)
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "OutOfStock")
        Reducer.reduce(&state, .key(.char("G")))
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "OrderCancelled")
        Reducer.reduce(&state, .key(.char("g")))
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "orders publish")
    }

    func testFilterByStateTypeOrIDAndSort() {
        var state = SagaFixtures.listState(width: 100, height: 30)
        state.filters["sagas"] = "COMPENSAT"
        XCTAssertEqual(Set(SagaModel.rows(state).map(\.id)), ["ord-7f3a", "ord-a002"])
        state.filters["sagas"] = "timed out"
        XCTAssertEqual(SagaModel.rows(state).map(\.id), ["ord-old1"])
        state.filters["sagas"] = "!OrderSaga"
        XCTAssertEqual(SagaModel.rows(state).map(\.id), ["job-17"])
        state.filters["sagas"] = nil
        // Sort by state: the most urgent first.
        while state.sagas.sort != .state { Reducer.reduce(&state, .key(.char("s"))) }
        XCTAssertEqual(SagaModel.rows(state).first?.state, .failed)
        XCTAssertEqual(SagaModel.rows(state).last?.state, .completed)
    }

    func testEveryStateShowsInTheList() {
        let states = Set(SagaFixtures.timelines().map(\.state))
        XCTAssertEqual(states, Set(SagaState.allCases))
        let screen = text(SagaFixtures.listState(width: 160, height: 48))
        for s in SagaState.allCases { XCTAssertTrue(screen.contains(s.label), s.label) }
    }

    func testDetailEscapesControlCharactersAndShowsSpans() {
        var state = SagaFixtures.timelineState(width: 120, height: 60)
        Reducer.reduce(&state, .key(.char("g")))
        Reducer.reduce(&state, .key(.char("j")))  // the OrderPlaced event with a hostile payload
        XCTAssertEqual(SagaModel.selectedItem(state)?.label, "OrderPlaced")
        let screen = render(state)
        for cell in screen.cells { XCTAssertFalse(cell.symbol.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }) }
        XCTAssertTrue(text(state).contains(#""note" : "bell\u0007 \u001b[31mred""#) || text(state).contains("bell"), text(state))
        XCTAssertTrue(text(state).contains("Payload"))
        // The failed span: status and exception event.
        for _ in 0..<20 where SagaModel.selectedItem(state)?.label != "payments process" { Reducer.reduce(&state, .key(.char("j"))) }
        let spanText = text(state)
        XCTAssertTrue(spanText.contains("ERROR: sku-42: 0 available"), spanText)
        XCTAssertTrue(spanText.contains("exception.type: IllegalStateException"), spanText)
    }

    func testDeadLetterJumpsToItsSaga() {
        var state = DeadLetterFixtures.state(width: 100, height: 30)
        Reducer.reduce(&state, .key(.enter))
        let rows = DeadLetterModel.letterRows(state, topic: "orders.DLT")
        guard let index = rows.firstIndex(where: { $0.correlation == "ord-5c21" }) else { return XCTFail("fixture letter missing") }
        for _ in 0..<index { Reducer.reduce(&state, .key(.char("j"))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("c"))), [.loadSaga("ord-5c21")])
        XCTAssertEqual(state.view, .sagaTimeline(id: "ord-5c21"))
        Reducer.reduce(&state, .key(.escape))
        if case .deadLetterDetail = state.view {} else { XCTFail("esc should return to the letter, got \(state.view)") }
    }

    func testTinyAndEmptyDoNotCrash() {
        for (w, h) in [(1, 1), (5, 2), (20, 5), (39, 7), (40, 8), (300, 100)] {
            var state = SagaFixtures.timelineState(width: w, height: h)
            _ = render(state)
            state.sagas.timeline = SagaFixtures.assembler.assemble(correlationID: "ord-7f3a", records: [], spans: [], now: Fixtures.end)
            XCTAssertTrue(w < 40 || text(state).contains("no records or spans"), "\(w)x\(h)")
            _ = render(SagaFixtures.listState(width: w, height: h))
        }
    }
}
