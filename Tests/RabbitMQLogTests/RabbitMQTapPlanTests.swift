import XCTest
@testable import RabbitMQLog
import EventModel

/// Which exchanges the tap binds to, and how: pure, from what the management API lists.
final class RabbitMQTapPlanTests: XCTestCase {
    typealias X = ManagementAPI.Exchange
    typealias B = ManagementAPI.Binding

    let exchanges = [
        X(name: "", type: "direct", internal: false),
        X(name: "amq.direct", type: "direct", internal: false),
        X(name: "amq.rabbitmq.trace", type: "topic", internal: true),
        X(name: "orders", type: "topic", internal: false),
        X(name: "payments", type: "direct", internal: false),
        X(name: "fulfilment", type: "fanout", internal: false),
        X(name: "audit", type: "headers", internal: false),
        X(name: "inner", type: "topic", internal: true),
        X(name: "delayed", type: "x-delayed-message", internal: false),
    ]
    let bindings = [
        B(source: "", destination: "billing", destination_type: "queue", routing_key: "billing"),
        B(source: "orders", destination: "billing", destination_type: "queue", routing_key: "order.*"),
        B(source: "payments", destination: "payments-svc", destination_type: "queue", routing_key: "payment.charged"),
        B(source: "payments", destination: "refunds-svc", destination_type: "queue", routing_key: "payment.refunded"),
        B(source: "payments", destination: "ledger", destination_type: "exchange", routing_key: "payment.charged"),
        B(source: "payments", destination: "evtop.tap.h.1", destination_type: "queue", routing_key: "payment.old"),
    ]

    func testEveryTypeGetsTheBindingThatCopiesAllItsMessages() {
        let plan = TapPlan.bindings(exchanges: exchanges, bindings: TapPlan.servicesBindings(bindings, tapQueue: "evtop.tap.h.1"), named: nil)
        XCTAssertEqual(plan.bindings, [
            TapBinding(exchange: "audit", routingKey: "", headersMatchAll: true),
            TapBinding(exchange: "fulfilment", routingKey: "", headersMatchAll: false),
            TapBinding(exchange: "orders", routingKey: "#", headersMatchAll: false),
            TapBinding(exchange: "payments", routingKey: "payment.charged", headersMatchAll: false),
            TapBinding(exchange: "payments", routingKey: "payment.refunded", headersMatchAll: false),
        ], "a direct exchange by each key its bindings use (once, the tap's own left out); amq.direct has no bindings yet")
        XCTAssertEqual(plan.exchanges, ["audit", "fulfilment", "orders", "payments"])
        XCTAssertTrue(plan.skipped.isEmpty, "exchanges nobody named are left out without a word")
    }

    func testTheDefaultExchangeTheServersOwnInternalAndPluginTypesAreNeverTapped() {
        let plan = TapPlan.bindings(exchanges: exchanges, bindings: bindings, named: nil)
        for never in ["", "amq.rabbitmq.trace", "inner", "delayed"] {
            XCTAssertFalse(plan.exchanges.contains(never), never)
        }
    }

    func testNamedExchangesOnlyAndWhyTheOthersAreNotTapped() {
        let plan = TapPlan.bindings(exchanges: exchanges, bindings: bindings, named: ["orders", "missing", "delayed", "amq.rabbitmq.trace"])
        XCTAssertEqual(plan.bindings, [TapBinding(exchange: "orders", routingKey: "#", headersMatchAll: false)])
        XCTAssertEqual(plan.skipped, ["missing (no such exchange)", "delayed (type x-delayed-message is not tapped)",
                                      "amq.rabbitmq.trace (not tapped: the server's own)"])
    }

    func testADirectExchangeWithNoBindingsYetGetsNone() {
        let plan = TapPlan.bindings(exchanges: [X(name: "quiet", type: "direct", internal: false)], bindings: [], named: nil)
        XCTAssertEqual(plan.bindings, [], "a key nobody binds reaches no service either; the next refresh binds new keys")
    }

    func testARecordsTimeIsTheTimestampPropertyRefinedByArrivalWithinItsSecond() {
        var d = AMQPDelivery(deliveryTag: 1, redelivered: false, exchange: "orders", routingKey: Array("order.placed".utf8), remaining: 0,
                             properties: [("correlation-id", .text(Array("saga-1".utf8)))], timestampSeconds: 1_700_000_000, headers: [], body: [])
        let within = Date(timeIntervalSince1970: 1_700_000_000.250)
        XCTAssertEqual(RabbitMQTap.record(d, arrival: within).timestampMillis, 1_700_000_000_250)
        let later = Date(timeIntervalSince1970: 1_700_000_005.0)
        XCTAssertEqual(RabbitMQTap.record(d, arrival: later).timestampMillis, 1_700_000_000_000, "the publisher's second wins when arrival is later")
        d.timestampSeconds = nil
        XCTAssertEqual(RabbitMQTap.record(d, arrival: later).timestampMillis, 1_700_000_005_000, "no timestamp: arrival time")
        let r = RabbitMQTap.record(d, arrival: later)
        XCTAssertEqual(r.topic, "orders", "the exchange it was published to")
        XCTAssertEqual(r.key, Array("order.placed".utf8))
        XCTAssertEqual(r.headers.first { $0.name == "amqp.correlation-id" }?.value, Array("saga-1".utf8))
    }
}

extension RabbitMQTapPlanTests {
    func testADeadLetterIsTimedWhenItArrivesNotWhenItWasFirstPublished() {
        let d = AMQPDelivery(deliveryTag: 1, redelivered: false, exchange: "orders.dlx", routingKey: [], remaining: 0, properties: [],
                             timestampSeconds: 1_700_000_000, headers: [("x-death", .array([]))], body: [])
        XCTAssertEqual(RabbitMQTap.record(d, arrival: Date(timeIntervalSince1970: 1_700_000_009.5)).timestampMillis, 1_700_000_009_500)
    }
}
