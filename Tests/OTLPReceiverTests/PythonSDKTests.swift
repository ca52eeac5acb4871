import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// The receiver against the real OpenTelemetry Python SDK and its OTLP/HTTP protobuf exporter.
final class PythonSDKTests: ReceiverTestCase {
    struct Sent: Decodable {
        struct IDs: Decodable { var trace: String; var span: String }
        var ok: Bool
        var root: IDs
        var producer: IDs
        var consumer: IDs
    }

    func send(compression: String, conversation: String) async throws -> Sent {
        let result = try await run("/usr/bin/env", ["python3", Self.pythonSender, endpoint, compression, conversation])
        XCTAssertEqual(result.status, 0, result.stderr)
        let sent = try JSONDecoder().decode(Sent.self, from: Data(result.stdout.utf8))
        XCTAssertTrue(sent.ok, "the SDK reported a failed export: \(result.stderr)")
        return sent
    }

    func testSpansFromTheSDKArriveIntact() async throws {
        try await requirePythonSDK()
        try await startReceiver()
        let sent = try await send(compression: "none", conversation: "ord-7f3a")

        let trace = try await store.spans(traceID: sent.producer.trace)
        XCTAssertEqual(trace.map(\.spanID).sorted(), [sent.root.span, sent.producer.span].sorted())
        let producer = try XCTUnwrap(trace.first { $0.spanID == sent.producer.span })
        XCTAssertEqual(producer.service, "orders")
        XCTAssertEqual(producer.name, "orders publish")
        XCTAssertEqual(producer.kind, .producer)
        XCTAssertEqual(producer.parentSpanID, sent.root.span)
        XCTAssertEqual(producer.attribute("messaging.system"), .string("kafka"))
        XCTAssertEqual(producer.attribute("messaging.destination.name"), .string("orders"))
        XCTAssertEqual(producer.attribute("messaging.kafka.message.offset"), .int(42))
        XCTAssertEqual(producer.attribute("retry.ratio"), .double(0.25))
        XCTAssertEqual(producer.attribute("flags"), .array([.bool(true), .bool(false)]))
        XCTAssertEqual(producer.correlationID, "ord-7f3a")
        XCTAssertEqual(producer.events.map(\.name), ["enqueued"])
        XCTAssertEqual(producer.events.first?.attributes, [SpanAttribute("queue.depth", .int(3)),
                                                           SpanAttribute("note", .string("tab\there"))])
        XCTAssertGreaterThan(producer.endUnixNano, producer.startUnixNano)
        XCTAssertGreaterThan(producer.startUnixNano, 1_600_000_000_000_000_000)
        let root = try XCTUnwrap(trace.first { $0.spanID == sent.root.span })
        XCTAssertNil(root.parentSpanID)
        XCTAssertEqual(root.kind, .server)

        let awaited1 = try await store.spans(traceID: sent.consumer.trace).first
        let consumer = try XCTUnwrap(awaited1)
        XCTAssertEqual(consumer.kind, .consumer)
        XCTAssertEqual(consumer.status, SpanStatus(code: .error, message: "payment failed"))
        XCTAssertEqual(consumer.links, [SpanLink(traceID: sent.producer.trace, spanID: sent.producer.span,
                                                 attributes: [SpanAttribute("link.reason", .string("creation"))])])
        let exception = try XCTUnwrap(consumer.events.first { $0.name == "exception" })
        XCTAssertTrue(exception.attributes.contains(SpanAttribute("exception.type", .string("ValueError"))))
        XCTAssertTrue(exception.attributes.contains(SpanAttribute("exception.message", .string("card declined"))))

        // The consumer span carries no conversation id: it joins the saga through its link.
        let saga = try await store.spans(correlationID: "ord-7f3a", limit: 100)
        XCTAssertEqual(Set(saga.map(\.spanID)), [sent.producer.span, sent.consumer.span])
        let stats = try XCTUnwrap(receiver?.stats)
        XCTAssertEqual(stats.spansStored, 3)
        XCTAssertEqual(stats.spansRejected, 0)
    }

    func testGzipFromTheSDK() async throws {
        try await requirePythonSDK()
        try await startReceiver()
        let sent = try await send(compression: "gzip", conversation: "ord-gz")
        let saga = try await store.spans(correlationID: "ord-gz", limit: 100)
        XCTAssertEqual(Set(saga.map(\.spanID)), [sent.producer.span, sent.consumer.span])
        let awaited2 = try await store.spanCount()
        XCTAssertEqual(awaited2, 3)
    }
}
