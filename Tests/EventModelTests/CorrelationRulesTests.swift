import XCTest
@testable import EventModel

final class CorrelationRulesTests: XCTestCase {
    func record(headers: [RecordHeader] = [], value: String? = nil, bytes: [UInt8]? = nil) -> Record {
        Record(topic: "orders", partition: 0, offset: 1, timestampMillis: 1_000, key: nil, headers: headers,
               value: bytes ?? value.map { Array($0.utf8) })
    }

    func testHeadersInOrderThenPointers() {
        let rules = CorrelationRules.default
        XCTAssertEqual(rules.correlationID(of: record(headers: [RecordHeader("x-correlation-id", "b"), RecordHeader("correlation-id", "a")])), "a")
        XCTAssertEqual(rules.correlationID(of: record(headers: [RecordHeader("$correlationId", "c")])), "c")
        XCTAssertEqual(rules.correlationID(of: record(headers: [RecordHeader("correlationId", "d")], value: #"{"correlationId":"z"}"#)), "d")
        XCTAssertEqual(rules.correlationID(of: record(value: #"{"correlationId":"ord-1"}"#)), "ord-1")
        XCTAssertEqual(rules.correlationID(of: record(value: #"{"payload":{"correlationId":"ord-2"}}"#)), "ord-2")
        XCTAssertNil(rules.correlationID(of: record(value: #"{"other":"x"}"#)))
    }

    func testEmptyOrBinaryHeaderFallsThrough() {
        let rules = CorrelationRules.default
        let r = record(headers: [RecordHeader(name: "correlation-id", value: [0xFF, 0xFE]), RecordHeader("correlationId", "  ")],
                       value: #"{"correlationId":"ord-3"}"#)
        XCTAssertEqual(rules.correlationID(of: r), "ord-3")
    }

    func testNonJSONAndNonUTF8ValuesDoNotMatch() {
        let rules = CorrelationRules.default
        XCTAssertNil(rules.correlationID(of: record(value: "correlationId=ord-1")))
        XCTAssertNil(rules.correlationID(of: record(bytes: Array(#"{"correlationId":"ord-"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))))
        XCTAssertNil(rules.correlationID(of: record(value: #"{"correlationId":"#)))
        XCTAssertNil(rules.correlationID(of: record(value: nil)))
        // Numbers count when integral; booleans and fractions do not.
        XCTAssertEqual(rules.correlationID(of: record(value: #"{"correlationId":42}"#)), "42")
        XCTAssertNil(rules.correlationID(of: record(value: #"{"correlationId":4.5}"#)))
        XCTAssertNil(rules.correlationID(of: record(value: #"{"correlationId":true}"#)))
    }

    func testJSONPointerEscapesAndArrays() throws {
        let p = try XCTUnwrap(JSONPointer("/a~1b/m~0n/1"))
        XCTAssertEqual(p.tokens, ["a/b", "m~n", "1"])
        let doc = try JSONSerialization.jsonObject(with: Data(#"{"a/b":{"m~n":["x","y"]}}"#.utf8))
        XCTAssertEqual(p.resolve(in: doc) as? String, "y")
        XCTAssertNil(JSONPointer("/x~2"))
        XCTAssertNil(JSONPointer("no-slash"))
        XCTAssertNil(try XCTUnwrap(JSONPointer("/a~1b/m~0n/01")).resolve(in: doc))
    }

    func testConfiguredRulesReplaceDefaultsOfTheirKind() throws {
        let rules = try CorrelationRules.configured(headers: ["trace-key"], pointers: ["/payload/orderId"])
        XCTAssertNil(rules.correlationID(of: record(headers: [RecordHeader("correlation-id", "a")])))
        XCTAssertEqual(rules.correlationID(of: record(headers: [RecordHeader("trace-key", "k")])), "k")
        XCTAssertEqual(rules.correlationID(of: record(value: #"{"payload":{"orderId":"ord-9"}}"#)), "ord-9")
        XCTAssertThrowsError(try CorrelationRules.configured(headers: nil, pointers: ["payload"]))
    }

    func testEventTypeFromHeadersOrJSON() {
        let rules = CorrelationRules.default
        XCTAssertEqual(rules.eventType(of: record(headers: [RecordHeader("ce_type", "com.x.Placed")])), "com.x.Placed")
        XCTAssertEqual(rules.eventType(of: record(value: #"{"eventType":"OrderPlaced"}"#)), "OrderPlaced")
        XCTAssertEqual(rules.eventType(of: record(value: #"{"type":"A","eventType":"B"}"#)), "A")
        // The demo's records: header and JSON agree.
        let demo = record(headers: [RecordHeader("correlation-id", "ord-1"), RecordHeader("event-type", "OrderPlaced")],
                          value: #"{"correlationId":"ord-1","eventType":"OrderPlaced","orderId":"ord-1"}"#)
        XCTAssertEqual(rules.extract(demo), .init(correlationID: "ord-1", eventType: "OrderPlaced"))
    }

    func testOverlongValuesDoNotMatch() {
        let long = String(repeating: "x", count: CorrelationRules.maxValueBytes + 1)
        XCTAssertNil(CorrelationRules.default.correlationID(of: record(headers: [RecordHeader("correlation-id", long)])))
    }

    func testSpanAttributesAndLinks() {
        let rules = CorrelationRules.default
        var span = Span(traceID: String(repeating: "a", count: 32), spanID: "b000000000000001", service: "s", name: "n",
                        startUnixNano: 1, endUnixNano: 2, attributes: [SpanAttribute("messaging.conversation_id", .string("ord-old"))])
        XCTAssertEqual(rules.correlationID(of: span), "ord-old")
        span.attributes.append(SpanAttribute("messaging.message.conversation_id", .string("ord-new")))
        XCTAssertEqual(rules.correlationID(of: span), "ord-new")
        span.attributes = []
        span.links = [SpanLink(traceID: "t", spanID: "creation")]
        XCTAssertNil(rules.correlationID(of: span))
        XCTAssertEqual(rules.correlationID(of: span) { $0.spanID == "creation" ? "ord-linked" : nil }, "ord-linked")
    }
}
