import XCTest
import Foundation
import Synchronization
import EventModel
@testable import Simulator

/// The demo services' spans: messaging attributes, producer/consumer pairs joined by links, failures, determinism.
final class DemoSpansTests: XCTestCase {
    final class Collected: Sendable {
        let spans = Mutex<[Span]>([])
        var all: [Span] { spans.withLock { $0 } }
    }

    func simulate(seed: UInt64, seconds: Int, poisonRate: Double = 0.05) async throws -> (spans: [Span], log: InMemoryLog) {
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        let log = InMemoryLog()
        let system = DemoSystem(log: log, config: DemoConfig(rate: 20, seed: seed, poisonRate: poisonRate))
        let collected = Collected()
        await system.setSpanSink { batch in collected.spans.withLock { $0 += batch } }
        try await system.setUp()
        try await system.advance(to: start)
        for step in 1...(seconds * 10) { try await system.advance(to: start.addingTimeInterval(Double(step) / 10)) }
        return (collected.all, log)
    }

    func testProducerAndConsumerSpansWithMessagingAttributesAndLinks() async throws {
        let (spans, log) = try await simulate(seed: 7, seconds: 20)
        XCTAssertGreaterThan(spans.count, 500)
        let byID = Dictionary(spans.map { ($0.spanID, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byID.count, spans.count, "span ids are unique")
        let producers = spans.filter { $0.kind == .producer }
        let consumers = spans.filter { $0.kind == .consumer }
        XCTAssertFalse(producers.isEmpty)
        XCTAssertFalse(consumers.isEmpty)
        for p in producers {
            XCTAssertEqual(p.attribute("messaging.system"), .string("kafka"))
            XCTAssertEqual(p.attribute("messaging.operation.type"), .string("publish"))
            XCTAssertNotNil(p.attribute("messaging.destination.name"))
            XCTAssertNotNil(p.attribute("messaging.message.id"))
            XCTAssertTrue(p.correlationID?.hasPrefix("ord-") ?? false)
        }
        for c in consumers {
            XCTAssertEqual(c.attribute("messaging.operation.type"), .string("process"))
            XCTAssertEqual(c.links.count, 1)
            let link = try XCTUnwrap(c.links.first)
            let producer = try XCTUnwrap(byID[link.spanID], "every consumer links to the producer span of its message")
            XCTAssertEqual(producer.kind, .producer)
            XCTAssertEqual(producer.traceID, link.traceID)
            XCTAssertEqual(producer.attribute("messaging.message.id"), c.attribute("messaging.message.id"))
            XCTAssertEqual(producer.correlationID, c.correlationID)
            XCTAssertLessThanOrEqual(producer.endUnixNano, c.startUnixNano)
        }
        // The producer span ids are the records' traceparent span ids.
        let orders = try await log.records(in: DemoTopics.orders)
        let first = try XCTUnwrap(orders.first)
        let parent = try XCTUnwrap(first.header("traceparent")?.utf8Value).split(separator: "-")
        XCTAssertEqual(byID[String(parent[2])]?.name, "orders publish")
        XCTAssertEqual(byID[String(parent[2])]?.service, DemoGroups.orderService)
        // Failed attempts (poison) are errors with an exception event.
        let failed = consumers.filter { $0.status.code == .error }
        XCTAssertFalse(failed.isEmpty)
        for f in failed {
            let exception = try XCTUnwrap(f.events.first { $0.name == "exception" })
            XCTAssertNotNil(exception.attributes.first { $0.key == "exception.type" })
            XCTAssertNotNil(exception.attributes.first { $0.key == "exception.stacktrace" })
        }
    }

    func testSameSeedSameSpans() async throws {
        let a = try await simulate(seed: 11, seconds: 5).spans
        let b = try await simulate(seed: 11, seconds: 5).spans
        let c = try await simulate(seed: 12, seconds: 5).spans
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
