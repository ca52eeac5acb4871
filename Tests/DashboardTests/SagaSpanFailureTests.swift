import XCTest
import EventModel
import TerminalUI
@testable import Dashboard

/// A failed span's status message and exception events, bounded, as the timeline detail shows them.
final class SagaSpanFailureTests: XCTestCase {
    func failedSpan(stackLines: Int = 3, exceptions: Int = 1, message: String = "card declined") -> EventModel.Span {
        let stack = (1...stackLines).map { "  at Frame\($0)" }.joined(separator: "\n")
        let events = (0..<exceptions).map { i in
            SpanEvent(timeUnixNano: 1_500 + UInt64(i), name: "exception", attributes: [
                SpanAttribute("exception.type", .string("ValueError")),
                SpanAttribute("exception.message", .string(message)),
                SpanAttribute("exception.stacktrace", .string(stack)),
                SpanAttribute("exception.escaped", .bool(true)),
            ])
        }
        return EventModel.Span(traceID: String(repeating: "a", count: 32), spanID: String(repeating: "1", count: 16), service: "payments",
                    name: "charge card", kind: .consumer, startUnixNano: 1_000, endUnixNano: 2_000,
                    status: SpanStatus(code: .error, message: "payment failed"),
                    events: [SpanEvent(timeUnixNano: 1_100, name: "retry")] + events)
    }

    func testStatusMessageExceptionAndStackTrace() {
        let span = failedSpan()
        let exceptions = SpanFailure.exceptions(span)
        XCTAssertEqual(exceptions.count, 1, "the retry event is not an exception")
        XCTAssertEqual(exceptions.first?.summary, "ValueError: card declined")
        XCTAssertEqual(exceptions.first?.stacktrace, ["  at Frame1", "  at Frame2", "  at Frame3"])
        XCTAssertEqual(SpanFailure.lines(span), [
            "  status: ERROR: payment failed",
            "  exception: ValueError: card declined",
            "        at Frame1", "        at Frame2", "        at Frame3",
        ])
        let quiet = EventModel.Span(traceID: span.traceID, spanID: span.spanID, service: "s", name: "n", startUnixNano: 1, endUnixNano: 2)
        XCTAssertEqual(SpanFailure.lines(quiet), [])
        var unexplained = quiet
        unexplained.status = SpanStatus(code: .error)
        XCTAssertEqual(SpanFailure.lines(unexplained), ["  status: ERROR (no message)"])
    }

    func testEverythingIsBounded() {
        let span = failedSpan(stackLines: 500, exceptions: 40, message: String(repeating: "x", count: 100_000) + "\nsecond line")
        let exceptions = SpanFailure.exceptions(span)
        XCTAssertEqual(exceptions.count, SpanFailure.maxExceptions)
        XCTAssertEqual(exceptions[0].stacktrace.count, SpanFailure.maxStackLines)
        XCTAssertEqual(exceptions[0].stacktraceLines, 500)
        XCTAssertEqual(exceptions[0].message?.count, SpanFailure.maxLineCharacters + 1, "cut, with an ellipsis, on one line")
        let lines = SpanFailure.lines(span)
        XCTAssertTrue(lines.contains("      … 470 more lines"), "\(lines.prefix(40))")
        XCTAssertEqual(lines.last, "  … 35 more exceptions")
        XCTAssertFalse(lines.contains { $0.contains("\n") })
    }

    func testTheTimelineDetailLeadsWithTheFailure() {
        let span = failedSpan()
        let timeline = SagaAssembler().assemble(correlationID: "ord-1", records: [], spans: [span], now: Date(timeIntervalSince1970: 10))
        let item = try! XCTUnwrap(timeline.items.first)
        let state = AppState(source: "test", now: Date(timeIntervalSince1970: 10), size: Size(width: 100, height: 30))
        let lines = SagaModel.detailLines(item, timeline: timeline, state: state).map(\.text)
        let failure = try! XCTUnwrap(lines.firstIndex(of: "Failure"), "\(lines)")
        let attributes = try! XCTUnwrap(lines.firstIndex { $0.hasPrefix("Attributes") })
        XCTAssertLessThan(failure, attributes, "why it failed comes before the attributes")
        XCTAssertEqual(Array(lines[(failure + 1)...(failure + 3)]),
                       ["  status: ERROR: payment failed", "  exception: ValueError: card declined", "        at Frame1"])
    }

    func testASpanOnlySagaRowNamesItsNewestSpan() {
        let timeline = SagaAssembler().assemble(correlationID: "ord-1", records: [], spans: [failedSpan()], now: Date(timeIntervalSince1970: 10))
        let row = SagaListRow(timeline: timeline)
        XCTAssertEqual(row.lastEvent, "charge card")
        XCTAssertEqual(row.state, .failed)
        XCTAssertEqual(row.services, ["payments"])
    }
}
