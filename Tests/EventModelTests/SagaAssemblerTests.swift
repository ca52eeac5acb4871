import XCTest
@testable import EventModel

/// The demo's OrderSaga, built by hand (the YAML parser is tested in the executable's loader tests).
let orderSaga = SagaDefinition(
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

let t0: Int64 = 1_780_000_000_000  // ms

func event(_ type: String, at ms: Int64, id: String = "ord-1", topic: String? = nil, offset: Int64? = nil) -> Record {
    let topics = ["OrderPlaced": "orders", "OrderCancelled": "orders", "PaymentAuthorized": "payments", "PaymentDeclined": "payments",
                  "PaymentRefunded": "payments", "InventoryReserved": "inventory", "OutOfStock": "inventory",
                  "InventoryReleased": "inventory", "OrderShipped": "shipments", "ShipmentFailed": "shipments"]
    return Record(topic: topic ?? topics[type] ?? "events", partition: 0, offset: offset ?? ms - t0, timestampMillis: ms,
                  key: Array(id.utf8), headers: [RecordHeader("correlation-id", id), RecordHeader("event-type", type)],
                  value: Array(#"{"correlationId":"\#(id)","eventType":"\#(type)"}"#.utf8))
}

func span(_ name: String, service: String, from ms: Int64, to end: Int64, error: Bool = false, id: String = "1") -> Span {
    Span(traceID: String(repeating: "ab", count: 16), spanID: String(repeating: "0", count: 15) + id, service: service, name: name,
         kind: .consumer, startUnixNano: UInt64(ms) * 1_000_000, endUnixNano: UInt64(end) * 1_000_000,
         status: SpanStatus(code: error ? .error : .ok),
         attributes: [SpanAttribute("messaging.message.conversation_id", .string("ord-1"))])
}

final class SagaAssemblerTests: XCTestCase {
    let assembler = SagaAssembler(definitions: [orderSaga])
    let early = Date(timeIntervalSince1970: Double(t0) / 1000 + 5)

    func timeline(_ records: [Record], spans: [Span] = [], now: Date? = nil) -> SagaTimeline {
        assembler.assemble(correlationID: "ord-1", records: records, spans: spans, now: now ?? early)
    }

    func testRunning() {
        let t = timeline([event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100)])
        XCTAssertEqual(t.state, .running)
        XCTAssertEqual(t.sagaType, "OrderSaga")
        XCTAssertEqual(t.steps.map(\.status), [.done, .done, .pending, .pending])
        XCTAssertEqual(t.stepsDone, 2)
        XCTAssertEqual(t.lastEventType, "PaymentAuthorized")
        XCTAssertEqual(t.rows, ["order-service", "payment-service", "inventory-service", "shipping-service"])
    }

    func testCompleted() {
        let t = timeline([event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100),
                          event("InventoryReserved", at: t0 + 200), event("OrderShipped", at: t0 + 300)])
        XCTAssertEqual(t.state, .completed)
        XCTAssertEqual(t.steps.map(\.status), [.done, .done, .done, .done])
        XCTAssertEqual(t.durationSeconds, 0.3, accuracy: 1e-9)
        XCTAssertEqual(t.items.last?.outcome, .terminal)
    }

    func testFailedBeforeAnyCompensation() {
        let t = timeline([event("OrderPlaced", at: t0), event("PaymentDeclined", at: t0 + 100)])
        XCTAssertEqual(t.state, .failed)
        XCTAssertEqual(t.steps[1].status, .failed)
        XCTAssertEqual(t.items[1].outcome, .failed)
    }

    func testCompensatingThenCompensated() {
        var records = [event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100),
                       event("OutOfStock", at: t0 + 200), event("PaymentRefunded", at: t0 + 300)]
        var t = timeline(records)
        XCTAssertEqual(t.state, .compensating)
        XCTAssertEqual(t.steps.map(\.status), [.done, .compensated, .failed, .pending])
        records.append(event("OrderCancelled", at: t0 + 400))
        t = timeline(records)
        XCTAssertEqual(t.state, .compensated)
        XCTAssertEqual(t.steps.map(\.status), [.compensated, .compensated, .failed, .pending])
        XCTAssertEqual(t.items.filter { $0.outcome == .compensation }.map(\.label), ["PaymentRefunded", "OrderCancelled"])
    }

    func testTimedOutNeedsNowPastTheTimeout() {
        let records = [event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100)]
        XCTAssertEqual(timeline(records, now: Date(timeIntervalSince1970: Double(t0) / 1000 + 29)).state, .running)
        XCTAssertEqual(timeline(records, now: Date(timeIntervalSince1970: Double(t0) / 1000 + 31)).state, .timedOut)
        // A finished saga never times out.
        let done = records + [event("InventoryReserved", at: t0 + 200), event("OrderShipped", at: t0 + 300)]
        XCTAssertEqual(timeline(done, now: Date(timeIntervalSince1970: Double(t0) / 1000 + 3600)).state, .completed)
        // A stuck compensation does.
        let stuck = records + [event("OutOfStock", at: t0 + 200), event("PaymentRefunded", at: t0 + 300)]
        XCTAssertEqual(timeline(stuck, now: Date(timeIntervalSince1970: Double(t0) / 1000 + 60)).state, .timedOut)
    }

    func testOutOfOrderArrivalGivesTheSameTimeline() {
        let ordered = [event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100),
                       event("InventoryReserved", at: t0 + 200), event("ShipmentFailed", at: t0 + 300),
                       event("InventoryReleased", at: t0 + 400), event("PaymentRefunded", at: t0 + 500),
                       event("OrderCancelled", at: t0 + 600)]
        let a = timeline(ordered)
        let b = timeline(ordered.reversed() + [ordered[2]])  // reversed, and one delivered twice
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.state, .compensated)
        XCTAssertEqual(a.items.map(\.label), ["OrderPlaced", "PaymentAuthorized", "InventoryReserved", "ShipmentFailed",
                                               "InventoryReleased", "PaymentRefunded", "OrderCancelled"])
        // The terminal event arriving first: already compensated, earlier steps fill in behind it.
        XCTAssertEqual(timeline([ordered[6]]).state, .compensated)
    }

    func testSpansBeforeTheirEventsShareTheAxisAndRows() {
        let spans = [span("orders process", service: "payment-service", from: t0 - 50, to: t0 + 90, id: "1"),
                     span("orders publish", service: "order-service", from: t0 - 80, to: t0 - 70, id: "2")]
        let t = timeline([event("OrderPlaced", at: t0), event("PaymentAuthorized", at: t0 + 100)], spans: spans)
        XCTAssertEqual(t.items.map(\.kind), [.span, .span, .event, .event])
        XCTAssertEqual(t.startNanos, (t0 - 80) * 1_000_000)
        XCTAssertEqual(t.items[0].row, "order-service")
        XCTAssertEqual(t.items[3].row, "payment-service")
        XCTAssertEqual(t.state, .running)
        // Spans alone: a timeline with no events and no definition, still running.
        let only = timeline([], spans: spans)
        XCTAssertNil(only.sagaType)
        XCTAssertEqual(only.state, .running)
        XCTAssertEqual(only.rows, ["order-service", "payment-service"])
    }

    func testDeadLettersAreShownButDoNotCount() {
        let dlt = event("OrderPlaced", at: t0 + 50, topic: "orders.DLT", offset: 7)
        let t = timeline([event("OrderPlaced", at: t0), dlt])
        XCTAssertEqual(t.items.map(\.kind), [.event, .deadLetter])
        XCTAssertEqual(t.items[1].row, "orders.DLT")
        XCTAssertEqual(t.state, .running)
        XCTAssertEqual(t.services, ["order-service", "payment-service", "inventory-service", "shipping-service"])
        XCTAssertEqual(t.lastEventType, "OrderPlaced")
        // Known only from a dead letter: still running, and its last event is the letter's type.
        let lone = timeline([event("PaymentDeclined", at: t0, topic: "payments.DLT", offset: 3)])
        XCTAssertEqual(lone.state, .running)
        XCTAssertEqual(lone.lastEventType, "PaymentDeclined")
        XCTAssertEqual(lone.stepsDone, 0)
    }

    func testInferredStatesWithoutDefinition() {
        let plain = SagaAssembler()
        func state(_ types: [String], spans: [Span] = []) -> SagaState {
            plain.assemble(correlationID: "c", records: types.enumerated().map { event($0.element, at: t0 + Int64($0.offset), topic: "events") },
                           spans: spans, now: early).state
        }
        XCTAssertEqual(state(["TicketOpened", "TicketAssigned"]), .running)
        XCTAssertEqual(state(["TicketOpened", "TicketCompleted"]), .completed)
        XCTAssertEqual(state(["TicketOpened", "CheckRejected"]), .failed)
        XCTAssertEqual(state(["TicketOpened", "CheckFailed", "SeatReleased"]), .compensating)
        XCTAssertEqual(state(["TicketOpened", "CheckFailed", "SeatReleased", "TicketCancelled"]), .compensated)
        XCTAssertEqual(state(["TicketOpened"], spans: [span("charge", service: "billing", from: t0, to: t0 + 5, error: true)]), .failed)
        let t = plain.assemble(correlationID: "c", records: [event("TicketOpened", at: t0, topic: "events"),
                                                             event("CheckFailed", at: t0 + 1, topic: "events")], spans: [], now: early)
        XCTAssertNil(t.sagaType)
        XCTAssertEqual(t.steps.map(\.name), ["TicketOpened", "CheckFailed"])
        XCTAssertEqual(t.steps.map(\.status), [.done, .failed])
        XCTAssertEqual(t.rows, ["events"])
    }

    func testSummaryFromIndexReferencesMatchesTheFullTimeline() {
        let records = [event("OrderPlaced", at: t0), event("PaymentDeclined", at: t0 + 100), event("OrderCancelled", at: t0 + 200)]
        let refs = records.map { SagaEventRef(topic: $0.topic, partition: $0.partition, offset: $0.offset,
                                              timestampMillis: $0.timestampMillis, eventType: $0.header("event-type")?.utf8Value) }
        let full = timeline(records), summary = assembler.summarize(correlationID: "ord-1", events: refs.shuffled(), now: early)
        XCTAssertEqual(summary.state, full.state)
        XCTAssertEqual(summary.steps, full.steps)
        XCTAssertEqual(summary.rows, full.rows)
        XCTAssertEqual(summary.state, .compensated)
    }

    func testInMemoryTraceStoreCorrelatesThroughLinks() async throws {
        let store = InMemoryTraceStore()
        let creation = span("orders publish", service: "order-service", from: t0, to: t0 + 1, id: "1")
        var consumer = span("orders process", service: "payment-service", from: t0 + 5, to: t0 + 9, id: "2")
        consumer.attributes = []
        consumer.links = [SpanLink(traceID: creation.traceID, spanID: creation.spanID)]
        try await store.insertSpans([consumer, creation])
        let found = try await store.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(found.map(\.name), ["orders publish", "orders process"])
    }
}
