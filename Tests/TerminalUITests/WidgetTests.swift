import XCTest
@testable import TerminalUI

final class WidgetTests: XCTestCase {
    // MARK: Block

    func testBlockGolden() {
        var b = ScreenBuffer(width: 30, height: 4)
        let block = Block(title: "Topics", rightTitle: "sort: 10s/s ▼")
        block.render(in: b.area, into: &b, theme: roleTheme)
        XCTAssertEqual(b.lines, [
            "┌ Topics ───── sort: 10s/s ▼ ┐",
            "│                            │",
            "│                            │",
            "└────────────────────────────┘",
        ])
        XCTAssertEqual(role(of: b[0, 0]), .border)
        XCTAssertEqual(role(of: b[2, 0]), .borderTitle)
        XCTAssertEqual(role(of: b[1, 0]), .border)
        XCTAssertEqual(block.inner(b.area), Rect(x: 1, y: 1, width: 28, height: 2))
    }

    func testBlockDropsRightTitleThenTruncatesLeft() {
        var b = ScreenBuffer(width: 16, height: 3)
        Block(title: "Topics", rightTitle: "sort: 10s/s ▼").render(in: b.area, into: &b, theme: .fallback)
        XCTAssertEqual(b.lines[0], "┌ Topics ──────┐")
        var c = ScreenBuffer(width: 8, height: 3)
        Block(title: "Consumer groups").render(in: c.area, into: &c, theme: .fallback)
        XCTAssertEqual(c.lines[0], "┌ Con… ┐")
        XCTAssertEqual(c.lines.map { TextWidth.of($0) }, [8, 8, 8])
    }

    func testBlockTooSmallHasNoBorder() {
        let block = Block(title: "x")
        var b = ScreenBuffer(width: 3, height: 5)
        block.render(in: b.area, into: &b, theme: .fallback)
        XCTAssertEqual(b.plainText, "\n\n\n\n")
        XCTAssertEqual(block.inner(Rect(x: 1, y: 1, width: 3, height: 5)), Rect(x: 1, y: 1, width: 3, height: 5))
        XCTAssertEqual(block.inner(Rect(x: 1, y: 1, width: 8, height: 2)), Rect(x: 1, y: 1, width: 8, height: 2))
    }

    // MARK: Sparkline, Bar, ProgressBar

    func testSparkline() {
        XCTAssertEqual(Sparkline.string([1, 2, 3, 4, 5, 6, 7, 8], width: 8), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(Sparkline.string([0, 0, 0], width: 3), "▁▁▁")
        XCTAssertEqual(Sparkline.string([0, 5, 0, 10], width: 4), " ▄ █")
        XCTAssertEqual(Sparkline.string([8, 8], width: 4), "  ██")
        XCTAssertEqual(Sparkline.string([100, 1, 2, 3], width: 3), "▃▆█")     // only the last 3
        XCTAssertEqual(Sparkline.string([1, 2], width: 2, maxValue: 8), "▁▂")
        XCTAssertEqual(Sparkline.string([16], width: 1, maxValue: 8), "█")
        XCTAssertEqual(Sparkline.string([.nan, -1, 0.01], width: 3), "  █")
        XCTAssertEqual(Sparkline.string([1, 2], width: 0), "")
        XCTAssertEqual(Sparkline.string([], width: 2), "  ")
        var b = ScreenBuffer(width: 6, height: 2)
        Sparkline(values: [1, 2, 3, 4]).render(in: Rect(x: 1, y: 1, width: 4, height: 1), into: &b, theme: roleTheme)
        XCTAssertEqual(b.lines, ["      ", " ▂▄▆█ "])
        XCTAssertEqual(role(of: b[1, 1]), .sparkline)
    }

    func testBarString() {
        XCTAssertEqual(Bar.string(fraction: 0, width: 4), "    ")
        XCTAssertEqual(Bar.string(fraction: 0.5, width: 4), "██  ")
        XCTAssertEqual(Bar.string(fraction: 0.55, width: 4), "██▎ ")
        XCTAssertEqual(Bar.string(fraction: 1 / 32, width: 4), "▏   ")
        XCTAssertEqual(Bar.string(fraction: 31 / 32, width: 4), "███▉")
        XCTAssertEqual(Bar.string(fraction: 1, width: 4), "████")
        XCTAssertEqual(Bar.string(fraction: 7, width: 4), "████")
        XCTAssertEqual(Bar.string(fraction: -1, width: 4), "    ")
        XCTAssertEqual(Bar.string(fraction: .nan, width: 4), "    ")
        XCTAssertEqual(Bar.string(fraction: 0.5, width: 0), "")
        for w in 1...9 { for k in 0...20 { XCTAssertEqual(TextWidth.of(Bar.string(fraction: Double(k) / 20, width: w)), w) } }
    }

    func testProgressBar() {
        var b = ScreenBuffer(width: 20, height: 1)
        ProgressBar(fraction: 0.5, label: "1/2").render(in: b.area, into: &b, theme: roleTheme)
        XCTAssertEqual(b.lines, ["███████░░░░░░░░  1/2"])
        XCTAssertEqual(role(of: b[0, 0]), .progressDone)
        XCTAssertEqual(role(of: b[7, 0]), .progressTodo)
        XCTAssertEqual(role(of: b[18, 0]), .text)

        var tiny = ScreenBuffer(width: 8, height: 1)
        ProgressBar(fraction: 1, label: "1/2  4.0 msg/s").render(in: tiny.area, into: &tiny, theme: .fallback)
        XCTAssertEqual(tiny.lines, ["████  1…"])
    }

    // MARK: Dialog

    func testDialogGolden() {
        var b = ScreenBuffer(width: 30, height: 7, fill: Cell("."))
        let dialog = Dialog(title: "Redrive 2", lines: ["move 2 → orders"], hint: "esc cancels")
        XCTAssertEqual(dialog.frame(in: b.area), Rect(x: 5, y: 1, width: 19, height: 4))
        dialog.render(in: b.area, into: &b, theme: roleTheme)
        XCTAssertEqual(b.lines, [
            "..............................",
            ".....┌ Redrive 2 ──────┐......",
            ".....│ move 2 → orders │......",
            ".....│ esc cancels     │......",
            ".....└─────────────────┘......",
            "..............................",
            "..............................",
        ])
        XCTAssertEqual(role(of: b[5, 1]), .dialogBorder)
        XCTAssertEqual(role(of: b[7, 1]), .dialogTitle)
        XCTAssertEqual(role(of: b[7, 2]), .dialog)
        XCTAssertEqual(b[7, 3].style.attributes, .dim) // the hint
        XCTAssertEqual(dialog.contentArea(in: b.area), Rect(x: 7, y: 2, width: 15, height: 2))
    }

    func testDialogClampedToArea() {
        var b = ScreenBuffer(width: 12, height: 4)
        let dialog = Dialog(title: "A long title here", lines: ["first line that is long", "2", "3"], hint: nil)
        dialog.render(in: b.area, into: &b, theme: .fallback)
        XCTAssertEqual(dialog.frame(in: b.area), b.area)
        XCTAssertEqual(b.lines, [
            "┌ A long … ┐",
            "│ first l… │",
            "│ 2        │",
            "└──────────┘",
        ])
    }

    // MARK: HelpOverlay

    let help = HelpOverlay(title: "Help", sections: [
        HelpSection(title: "Move", entries: [(key: "j/k", text: "down / up"), (key: "g/G", text: "top / bottom")]),
        HelpSection(title: "Views", entries: [(key: "1", text: "topics"), (key: "2", text: "lag")]),
    ])

    func testHelpSideBySideWhenWide() {
        var b = ScreenBuffer(width: 40, height: 8)
        help.render(in: b.area, into: &b, theme: roleTheme)
        let text = b.lines.joined(separator: "\n")
        let titleRow = b.lines.firstIndex { $0.contains("Move") }
        XCTAssertNotNil(titleRow)
        XCTAssertEqual(titleRow, b.lines.firstIndex { $0.contains("Views") })
        XCTAssertTrue(text.contains("j/k  down / up"))
        let keyX = b.lines[3].distance(from: b.lines[3].startIndex, to: b.lines[3].firstIndex(of: "j") ?? b.lines[3].endIndex)
        XCTAssertEqual(role(of: b[keyX, 3]), .helpKey)
    }

    func testHelpStackedWhenNarrow() {
        var b = ScreenBuffer(width: 24, height: 12)
        help.render(in: b.area, into: &b, theme: .fallback)
        let moveRow = b.lines.firstIndex { $0.contains("Move") } ?? -1
        let viewsRow = b.lines.firstIndex { $0.contains("Views") } ?? -1
        XCTAssertGreaterThan(viewsRow, moveRow + 2)
        XCTAssertTrue(b.lines.contains { $0.contains("g/G  top / bottom") })
    }

    func testHelpTruncatedWhenTiny() {
        var b = ScreenBuffer(width: 14, height: 5)
        help.render(in: b.area, into: &b, theme: .fallback)
        XCTAssertTrue(b.lines.contains { $0.contains("…") })
        XCTAssertEqual(b.lines.map { TextWidth.of($0) }, Array(repeating: 14, count: 5))
    }

    // MARK: StatusLine

    func testStatusLine() {
        let line = StatusLine(left: [Span(" evtop ", role: .headerTitle), Span("sqlite:demo.db", role: .headerSource)],
                              right: [Span("9 topics ", role: .header), Span("14:46:04 ", role: .text)],
                              fill: .header)
        var b = ScreenBuffer(width: 40, height: 1)
        line.render(in: b.area, into: &b, theme: roleTheme)
        XCTAssertEqual(b.lines, [" evtop sqlite:demo.db 9 topics 14:46:04 "])
        XCTAssertEqual(role(of: b[1, 0]), .headerTitle)
        XCTAssertEqual(role(of: b[21, 0]), .header)
        XCTAssertEqual(role(of: b[31, 0]), .text)

        var narrow = ScreenBuffer(width: 31, height: 1)
        line.render(in: narrow.area, into: &narrow, theme: .fallback)
        XCTAssertEqual(narrow.lines, [" evtop sqlite:demo.db 9 topics "])

        var narrower = ScreenBuffer(width: 24, height: 1)
        line.render(in: narrower.area, into: &narrower, theme: .fallback)
        XCTAssertEqual(narrower.lines, [" evtop sqlite:demo.db   "])

        var tiny = ScreenBuffer(width: 12, height: 1)
        line.render(in: tiny.area, into: &tiny, theme: .fallback)
        XCTAssertEqual(tiny.lines, [" evtop sqli…"])
    }

    // MARK: Robustness

    /// Every widget at every tiny size: no crash, nothing written outside its area.
    func testWidgetsStayInsideTheirAreaAtTinySizes() {
        let table: Table = {
            var t = Table(columns: [TableColumn("A", width: .flexible(min: 3, weight: 1)),
                                    TableColumn("B", width: .fixed(4), alignment: .right, priority: 1)],
                          rowCount: 50) { TableRowContent(cells: [TableCell("日本\($0)"), "🚀x"], isMarked: $0 % 2 == 0) }
            t.showMarkColumn = true
            t.selectedRow = 3
            t.sortColumn = 1
            t.scrollOffset = 2
            return t
        }()
        let renderers: [(String, (Rect, inout ScreenBuffer) -> Void)] = [
            ("block", { Block(title: "日本 title", rightTitle: "right").render(in: $0, into: &$1, theme: .fallback) }),
            ("table", { table.render(in: $0, into: &$1, theme: .fallback) }),
            ("spark", { Sparkline(values: [1, 2, 3]).render(in: $0, into: &$1, theme: .fallback) }),
            ("bar", { Bar(fraction: 0.4).render(in: $0, into: &$1, theme: .fallback) }),
            ("progress", { ProgressBar(fraction: 0.4, label: "日本 label").render(in: $0, into: &$1, theme: .fallback) }),
            ("dialog", { Dialog(title: "T", lines: ["日本語 text", "b"], hint: "h").render(in: $0, into: &$1, theme: .fallback) }),
            ("help", { self.help.render(in: $0, into: &$1, theme: .fallback) }),
            ("status", { StatusLine(left: [Span("日本 left", role: .text)], right: [Span("r", role: .text)], fill: .statusLine)
                .render(in: $0, into: &$1, theme: .fallback) }),
        ]
        let background = Cell("x")
        for (name, render) in renderers {
            for w in 0...7 {
                for h in 0...5 {
                    let area = Rect(x: 2, y: 1, width: w, height: h)
                    var b = ScreenBuffer(width: 12, height: 8, fill: background)
                    render(area, &b)
                    for y in 0..<b.height {
                        for x in 0..<b.width where !(x >= area.x && x < area.maxX && y >= area.y && y < area.maxY) {
                            XCTAssertEqual(b[x, y], background, "\(name) \(w)x\(h) wrote outside at (\(x),\(y))")
                        }
                    }
                }
            }
            // An area hanging off the buffer is clipped.
            var b = ScreenBuffer(width: 6, height: 3)
            render(Rect(x: 3, y: 1, width: 10, height: 10), &b)
            render(Rect(x: -3, y: -2, width: 5, height: 4), &b)
        }
    }
}
