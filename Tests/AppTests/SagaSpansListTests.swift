import XCTest
import Foundation
import EventModel
import EmbeddedStore
import Dashboard
@testable import App

/// Sagas known from spans: in the sagas list beside those known from records (each once, newest activity
/// first), and a failed span's status message and exceptions in `evtop saga ID`'s text and JSON.
final class SagaSpansListTests: XCTestCase {
    var dir: URL!
    var path: String { dir.appendingPathComponent("s.db").path }

    static func span(_ trace: String, _ id: String, conversation: String, startMillis: UInt64, service: String,
                     failed: Bool = false) -> Span {
        let start = startMillis * 1_000_000
        return Span(traceID: String(repeating: trace, count: 32), spanID: String(repeating: id, count: 16), service: service,
                    name: failed ? "charge card" : "reserve stock", kind: .consumer, startUnixNano: start, endUnixNano: start + 5_000_000,
                    status: failed ? SpanStatus(code: .error, message: "payment failed") : SpanStatus(),
                    attributes: [SpanAttribute("messaging.message.conversation_id", .string(conversation))],
                    events: failed ? [SpanEvent(timeUnixNano: start + 1_000_000, name: "exception", attributes: [
                        SpanAttribute("exception.type", .string("ValueError")),
                        SpanAttribute("exception.message", .string("card declined")),
                        SpanAttribute("exception.stacktrace", .string("Traceback (most recent call last):\n  File \"pay.py\", line 3\nValueError: card declined")),
                    ])] : [])
    }

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-saga-spans-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteLog(path: path)
        try await store.createTopic("orders", partitions: 1)
        try await store.produce([
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: 10_000, headers: [RecordHeader("correlation-id", "ord-r1")],
                           value: Array("{\"type\":\"OrderPlaced\"}".utf8)),
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: 30_000, headers: [RecordHeader("correlation-id", "ord-r2")],
                           value: Array("{\"type\":\"OrderPlaced\"}".utf8)),
        ])
        try await store.insertSpans([
            Self.span("a", "1", conversation: "ord-s1", startMillis: 20_000, service: "payments", failed: true),
            // A saga with records whose newest activity is a span: it leads the list.
            Self.span("b", "2", conversation: "ord-r1", startMillis: 40_000, service: "inventory"),
        ])
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testNewestFirstMergesEachIDOnceByItsNewestActivity() {
        let merged = SagaLoader.newestFirst(
            records: [("ord-a", 5_000), ("ord-b", 3_000), ("ord-c", 1_000)],
            spans: [SpanCorrelationSummary(correlationID: "ord-c", lastStartUnixNano: 6_000_000_000, spans: 2),
                    SpanCorrelationSummary(correlationID: "ord-s", lastStartUnixNano: 4_000_000_000, spans: 1),
                    SpanCorrelationSummary(correlationID: "ord-a", lastStartUnixNano: 2_000_000_000, spans: 1)],
            limit: 10)
        XCTAssertEqual(merged, ["ord-c", "ord-a", "ord-s", "ord-b"])
        XCTAssertEqual(SagaLoader.newestFirst(records: [("x", 1), ("y", 1)], spans: [], limit: 1), ["y"], "ties by ID, descending, as the index")
        XCTAssertEqual(SagaLoader.newestFirst(records: [("x", 1)], spans: [], limit: 0), [])
    }

    func assertListHasSpanOnlySaga(_ loader: SagaLoader, file: StaticString = #filePath, line: UInt = #line) async throws {
        try await loader.catchUpFully()
        let rows = try await loader.recent(limit: 10, now: Date(timeIntervalSince1970: 50))
        XCTAssertEqual(rows.map(\.id), ["ord-r1", "ord-r2", "ord-s1"], file: file, line: line)
        let spanOnly = try XCTUnwrap(rows.last, file: file, line: line)
        XCTAssertEqual(spanOnly.state, .failed, "a failed span fails the saga, as on its timeline", file: file, line: line)
        XCTAssertEqual(spanOnly.services, ["payments"], file: file, line: line)
        XCTAssertEqual(spanOnly.lastEvent, "charge card", file: file, line: line)
        XCTAssertEqual(spanOnly.startMillis, 20_000, file: file, line: line)
        let mixed = rows[0]
        XCTAssertEqual(mixed.items, 2, "its record and its span", file: file, line: line)
        XCTAssertEqual(mixed.lastMillis, 40_005, file: file, line: line)
        XCTAssertTrue(mixed.services.contains("inventory"), "\(mixed.services)", file: file, line: line)
        let two = try await loader.recent(limit: 2, now: Date(timeIntervalSince1970: 50))
        XCTAssertEqual(two.map(\.id), ["ord-r1", "ord-r2"], file: file, line: line)
    }

    func testTheListMergesSpanOnlySagasThroughTheIndexAndThroughAScan() async throws {
        let assembler = try SagaSetup.assembler(context: nil, configPath: nil)
        let writable = try SourceRegistry.open(SourceRegistry.embeddedStore(path: path), settings: SourceSettings(readOnly: false))
        let indexed = await SagaLoader.make(writable, readOnly: false, assembler: assembler)
        XCTAssertNotNil(indexed.index)
        try await assertListHasSpanOnlySaga(indexed)

        let readOnly = try SourceRegistry.open(SourceRegistry.embeddedStore(path: path), settings: SourceSettings(readOnly: true))
        let scanning = await SagaLoader.make(readOnly, readOnly: true, assembler: assembler)
        XCTAssertNil(scanning.index)
        try await assertListHasSpanOnlySaga(scanning)
    }

    func testASpanOnlyTimelineShowsTheStatusMessageAndExceptionInTextAndJSON() async throws {
        let assembler = try SagaSetup.assembler(context: nil, configPath: nil)
        let opened = try SourceRegistry.open(SourceRegistry.embeddedStore(path: path), settings: SourceSettings(readOnly: true))
        let loader = await SagaLoader.make(opened, readOnly: true, assembler: assembler)
        let timeline = try await loader.timeline(id: "ord-s1", now: Date(timeIntervalSince1970: 50))
        XCTAssertEqual(timeline.items.count, 1)
        XCTAssertEqual(timeline.state, .failed)

        let text = SagaReport.failureLines(timeline)
        XCTAssertEqual(text.first, "SPAN STATUS AND EXCEPTIONS")
        XCTAssertTrue(text.contains("    status: ERROR: payment failed"), "\(text)")
        XCTAssertTrue(text.contains("    exception: ValueError: card declined"), "\(text)")
        XCTAssertTrue(text.contains("          File \"pay.py\", line 3"), "the stack trace, line by line: \(text)")

        let json = try ScriptJSON.encode(SagaOutput(timeline, note: loader.note))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let item = try XCTUnwrap((object["items"] as? [[String: Any]])?.first)
        XCTAssertEqual(item["status"] as? String, "error")
        XCTAssertEqual(item["statusMessage"] as? String, "payment failed")
        let exception = try XCTUnwrap((item["exceptions"] as? [[String: Any]])?.first, json)
        XCTAssertEqual(exception["type"] as? String, "ValueError")
        XCTAssertEqual(exception["message"] as? String, "card declined")
        XCTAssertEqual(exception["stacktraceLines"] as? Int, 3)
        XCTAssertEqual((exception["stacktrace"] as? [String])?.last, "ValueError: card declined")

        let quiet = try await loader.timeline(id: "ord-r2", now: Date(timeIntervalSince1970: 50))
        XCTAssertEqual(SagaReport.failureLines(quiet), [], "no section without a span status message or exception")
    }
}
