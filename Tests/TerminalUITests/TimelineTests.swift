import XCTest
@testable import TerminalUI

final class TimelineTests: XCTestCase {
    func testColumnsAndTicks() {
        XCTAssertEqual(Timeline.column(0, span: 2, width: 21), 0)
        XCTAssertEqual(Timeline.column(1, span: 2, width: 21), 10)
        XCTAssertEqual(Timeline.column(2, span: 2, width: 21), 20)
        XCTAssertEqual(Timeline.column(5, span: 2, width: 21), 20, "clamped to the plot")
        XCTAssertEqual(Timeline.column(.nan, span: 2, width: 21), 0)
        XCTAssertEqual(Timeline.tickStep(span: 2.43, count: 5), 0.5)
        XCTAssertEqual(Timeline.tickStep(span: 0.134, count: 3), 0.05, accuracy: 1e-12)
        XCTAssertEqual(Timeline.tickStep(span: 95, count: 4), 50)
        XCTAssertEqual(Timeline.tickLabel(0, step: 0.5), "0s")
        XCTAssertEqual(Timeline.tickLabel(0.05, step: 0.05), "50ms")
        XCTAssertEqual(Timeline.tickLabel(1.5, step: 0.5), "1.5s")
        XCTAssertEqual(Timeline.tickLabel(120, step: 60), "2m")
    }

    func testBarsMarkersAndLabelsNeverHideTheNextMarker() {
        let timeline = Timeline(rows: [
            Timeline.Row(title: "payment-service",
                         bars: [Timeline.Bar(start: 0, end: 1, role: .sagaSpan)],
                         markers: [Timeline.Marker(at: 1, glyph: "◆", label: "PaymentAuthorized", role: .sagaEvent),
                                   Timeline.Marker(at: 1.4, glyph: "↺", label: "PaymentRefunded", role: .sagaCompensation)]),
            Timeline.Row(title: "order-service",
                         markers: [Timeline.Marker(at: 0, glyph: "◆", label: "OrderPlaced", role: .sagaEvent),
                                   Timeline.Marker(at: 2, glyph: "↺", label: "OrderCancelled", role: .sagaCompensation)]),
        ], span: 2, titleWidth: 15)
        var buffer = ScreenBuffer(width: 60, height: 3)
        timeline.render(in: buffer.area, into: &buffer, theme: .fallback)
        let lines = buffer.lines
        XCTAssertTrue(lines[0].hasPrefix(String(repeating: " ", count: 16) + "0s"), lines[0])
        // The bar ends where the first marker sits; its label stops before the second marker.
        XCTAssertTrue(lines[1].contains("├────"), lines[1])
        XCTAssertTrue(lines[1].contains("◆ Paym… ↺"), lines[1])
        // The last marker has no room left of it (the previous label): its label is cut at the edge.
        XCTAssertTrue(lines[1].hasSuffix("↺ PaymentRefu…"), lines[1])
        // At the right edge the label goes left of its marker.
        XCTAssertTrue(lines[2].hasSuffix("OrderCancelled ↺"), lines[2])
        XCTAssertTrue(lines[2].contains("◆ OrderPlaced"), lines[2])
    }

    func testTooNarrowDrawsNothingAndHostileLabelsAreEscaped() {
        var narrow = ScreenBuffer(width: 8, height: 2)
        Timeline(rows: [Timeline.Row(title: "a-long-service-name", markers: [Timeline.Marker(at: 0, glyph: "◆", label: "x", role: .sagaEvent)])],
                 span: 1).render(in: narrow.area, into: &narrow, theme: .fallback)
        XCTAssertFalse(narrow.lines.joined().contains("◆"))
        var buffer = ScreenBuffer(width: 50, height: 2)
        Timeline(rows: [Timeline.Row(title: "svc", markers: [Timeline.Marker(at: 0, glyph: "◆", label: "Evil\u{1b}[2J", role: .sagaEvent)])],
                 span: 1).render(in: buffer.area, into: &buffer, theme: .fallback)
        XCTAssertFalse(buffer.cells.contains { $0.symbol.unicodeScalars.contains { $0.value == 0x1b } })
    }
}
