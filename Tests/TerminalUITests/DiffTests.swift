import XCTest
@testable import TerminalUI

final class DiffTests: XCTestCase {
    func frame(_ w: Int, _ h: Int, _ texts: [(String, Int, Int)] = [], style: Style = .plain) -> ScreenBuffer {
        var b = ScreenBuffer(width: w, height: h)
        for (t, x, y) in texts { b.put(t, x: x, y: y, style: style) }
        return b
    }

    func testIdenticalFramesGiveNoUpdates() {
        let a = frame(10, 3, [("hello 日本", 0, 1)])
        XCTAssertEqual(a.diff(from: a), [])
    }

    func testOneChangedCharacter() {
        let a = frame(10, 2, [("hello", 0, 1)])
        let b = frame(10, 2, [("hellO", 0, 1)])
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 4, y: 1, cell: Cell("O"))])
    }

    func testStyleOnlyChangeIsAnUpdate() {
        let a = frame(5, 1, [("ab", 0, 0)])
        var b = a
        b.setStyle(Rect(x: 1, y: 0, width: 1, height: 1), style: Style(attributes: .bold))
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 1, y: 0, cell: Cell("b", style: Style(attributes: .bold)))])
    }

    func testWideGlyphReplacedByTwoNarrow() {
        let a = frame(4, 1, [("日", 1, 0)])
        let b = frame(4, 1, [("ab", 1, 0)])
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 1, y: 0, cell: Cell("a")), CellUpdate(x: 2, y: 0, cell: Cell("b"))])
    }

    func testWideGlyphReplacedByNarrowRewritesRightHalf() {
        let a = frame(4, 1, [("日", 0, 0)])
        let b = frame(4, 1, [("a", 0, 0)])
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 0, y: 0, cell: Cell("a")), CellUpdate(x: 1, y: 0, cell: Cell(" "))])
    }

    func testNarrowReplacedByWideSkipsContinuation() {
        let a = frame(4, 1, [("ab", 0, 0)])
        let b = frame(4, 1, [("日", 0, 0)])
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 0, y: 0, cell: Cell("日"))])
    }

    func testWideGlyphChangedToAnotherWideGlyph() {
        let a = frame(4, 1, [("日", 0, 0)])
        let b = frame(4, 1, [("本", 0, 0)])
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 0, y: 0, cell: Cell("本"))])
    }

    func testCellAfterReplacedWideGlyphIsRewrittenEvenIfEqual() {
        // Previous frame: a wide glyph; new frame: narrow glyph and the same blank the terminal lost.
        var a = ScreenBuffer(width: 3, height: 1)
        a[0, 0] = Cell("日"); a[1, 0] = Cell("")
        var b = ScreenBuffer(width: 3, height: 1)
        b[0, 0] = Cell("a"); b[1, 0] = Cell("") // orphan continuation in the new frame
        XCTAssertEqual(b.diff(from: a), [CellUpdate(x: 0, y: 0, cell: Cell("a")), CellUpdate(x: 1, y: 0, cell: Cell(" "))])
    }

    func testSizeChangeUpdatesEveryCell() {
        let a = frame(3, 2)
        let b = frame(4, 2, [("日", 0, 0)])
        let updates = b.diff(from: a)
        XCTAssertEqual(updates.count, 7) // 8 cells minus one continuation
        XCTAssertEqual(updates.first, CellUpdate(x: 0, y: 0, cell: Cell("日")))
        XCTAssertFalse(updates.contains { $0.cell.isContinuation })
    }

    /// Random frames of mixed wide and narrow text: after each draw the emulated terminal shows the frame.
    func testBackendScreenAlwaysMatchesFrame() {
        var rng = SeededRandom(state: 42)
        let pieces = ["a", "bc", "日", "本語", "🚀", "x日y", "e\u{301}", " ", "⚠️", "🇯🇵"]
        let backend = TestBackend(width: 12, height: 3)
        for _ in 0..<500 {
            var f = ScreenBuffer(width: 12, height: 3)
            for _ in 0..<Int.random(in: 0...8, using: &rng) {
                let text = pieces[Int.random(in: 0..<pieces.count, using: &rng)]
                let style = Bool.random(using: &rng) ? Style.plain : Style(attributes: .bold)
                f.put(text, x: Int.random(in: -1...12, using: &rng), y: Int.random(in: 0...2, using: &rng), style: style)
            }
            backend.draw(f)
            XCTAssertEqual(backend.buffer.lines, f.lines)
            for i in f.cells.indices where !f.cells[i].isContinuation {
                XCTAssertEqual(backend.buffer.cells[i], f.cells[i])
            }
        }
    }
}
