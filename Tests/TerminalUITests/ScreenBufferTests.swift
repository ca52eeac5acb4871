import XCTest
@testable import TerminalUI

final class ScreenBufferTests: XCTestCase {
    func testCJKTakesTwoColumnsEach() {
        var b = ScreenBuffer(width: 8, height: 1)
        XCTAssertEqual(b.put("日本語", x: 0, y: 0), 6)
        XCTAssertEqual(b[0, 0].symbol, "日")
        XCTAssertTrue(b[1, 0].isContinuation)
        XCTAssertEqual(b[2, 0].symbol, "本")
        XCTAssertEqual(b[4, 0].symbol, "語")
        XCTAssertEqual(b.lines, ["日本語  "])
    }

    func testEmojiIsWide() {
        var b = ScreenBuffer(width: 4, height: 1)
        XCTAssertEqual(b.put("🚀x", x: 0, y: 0), 3)
        XCTAssertEqual(b[0, 0].symbol, "🚀")
        XCTAssertTrue(b[1, 0].isContinuation)
        XCTAssertEqual(b[2, 0].symbol, "x")
    }

    func testCombiningMarkStaysWithItsLetter() {
        var b = ScreenBuffer(width: 4, height: 1)
        XCTAssertEqual(b.put("e\u{301}x", x: 0, y: 0), 2)
        XCTAssertEqual(b[0, 0].symbol, "e\u{301}")
        XCTAssertEqual(b[1, 0].symbol, "x")
        XCTAssertEqual(b.lines, ["e\u{301}x  "])
    }

    func testEscapeIsShownAndNeverStored() {
        var b = ScreenBuffer(width: 20, height: 2)
        b.put("a\u{1B}[31mred\u{7}\u{9B}", x: 0, y: 0)
        b.put("\u{1B}]0;title\u{7}", x: 0, y: 1)
        for cell in b.cells {
            XCTAssertFalse(cell.symbol.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
                           "raw control in cell \(cell.symbol.unicodeScalars.map { $0.value })")
        }
        XCTAssertTrue(b.lines[0].hasPrefix("a␛[31mred␇"))
        XCTAssertTrue(b.lines[1].hasPrefix("␛]0;title␇"))
    }

    func testWideGlyphCutAtRightEdgeBecomesSpace() {
        var b = ScreenBuffer(width: 5, height: 1, fill: Cell("x"))
        XCTAssertEqual(b.put("ab日本", x: 0, y: 0), 5)
        XCTAssertEqual(b.lines, ["ab日 "])
        XCTAssertFalse(b[4, 0].isContinuation)

        var c = ScreenBuffer(width: 10, height: 1, fill: Cell("x"))
        c.put("日本", x: 1, y: 0, maxWidth: 3)
        XCTAssertEqual(c.lines, ["x日 xxxxxx"])
    }

    func testWideGlyphCutAtLeftEdge() {
        var b = ScreenBuffer(width: 5, height: 1, fill: Cell("x"))
        b.put("日本", x: -1, y: 0)
        XCTAssertEqual(b.lines, [" 本xx"])
    }

    func testOverwritingHalfOfWideGlyphRepairsOtherHalf() {
        var b = ScreenBuffer(width: 6, height: 1)
        b.put("日本", x: 0, y: 0)
        b.put("x", x: 1, y: 0) // right half of 日
        XCTAssertEqual(b[0, 0], Cell(" "))
        XCTAssertEqual(b.lines, [" x本  "])
        b.put("y", x: 2, y: 0) // left half of 本
        XCTAssertEqual(b.lines, [" xy   "])
        XCTAssertFalse(b.cells.contains { $0.isContinuation })
    }

    func testWideOverWideShiftedByOne() {
        var b = ScreenBuffer(width: 6, height: 1)
        b.put("日本", x: 0, y: 0)
        b.put("語", x: 1, y: 0)
        XCTAssertEqual(b.lines, [" 語   "])
        XCTAssertTrue(b[2, 0].isContinuation)
        XCTAssertFalse(b[3, 0].isContinuation)
    }

    func testFillRepairsCutGlyphs() {
        var b = ScreenBuffer(width: 6, height: 1)
        b.put("日本語", x: 0, y: 0)
        b.fill(Rect(x: 1, y: 0, width: 2, height: 1), with: Cell("-"))
        XCTAssertEqual(b.lines, [" -- 語"])
        b.fill(Rect(x: 4, y: 0, width: 1, height: 1), with: Cell("+"))
        XCTAssertEqual(b.lines, [" -- + "])
    }

    func testPutClipsAndNeverWritesOutside() {
        var b = ScreenBuffer(width: 3, height: 2)
        XCTAssertEqual(b.put("hello", x: 1, y: 1), 2)
        XCTAssertEqual(b.put("hello", x: 5, y: 0), 0)
        XCTAssertEqual(b.put("hello", x: 0, y: 2), 0)
        XCTAssertEqual(b.put("hello", x: 0, y: -1), 0)
        XCTAssertEqual(b.put("hello", x: 0, y: 0, maxWidth: 0), 0)
        XCTAssertEqual(b.lines, ["   ", " he"])
    }

    func testTextWidths() {
        XCTAssertEqual(TextWidth.of("⚠️"), 2)
        XCTAssertEqual(TextWidth.of("⚠"), 1)
        XCTAssertEqual(TextWidth.of("🇯🇵"), 2)
        XCTAssertEqual(TextWidth.of("🇯🇵🇩🇪"), 4)
        XCTAssertEqual(TextWidth.of("日本語"), 6)
        XCTAssertEqual(TextWidth.of("e\u{301}"), 1)
        XCTAssertEqual(TextWidth.of("🚀"), 2)
        XCTAssertEqual(TextWidth.of("👩‍👩‍👧"), 2)
        XCTAssertEqual(TextWidth.of("a\u{1B}"), 2) // "a␛"
        XCTAssertEqual(TextWidth.of("\u{9B}"), TextWidth.of(TextWidth.sanitized("\u{9B}")))
    }

    func testTruncatedAndPadded() {
        XCTAssertEqual(TextWidth.truncated("orders.DLT", to: 6), "order…")
        XCTAssertEqual(TextWidth.truncated("日本語", to: 4), "日…")
        XCTAssertEqual(TextWidth.truncated("abc", to: 3), "abc")
        XCTAssertEqual(TextWidth.truncated("abc", to: 0), "")
        XCTAssertEqual(TextWidth.padded("12", to: 5, alignRight: true), "   12")
        XCTAssertEqual(TextWidth.truncated("a\u{1B}b", to: 3), "a␛b")
    }

    func testPrintableASCIITakesTheFastPathsWithTheSameAnswers() {
        XCTAssertTrue(TextWidth.isPrintableASCII("orders.DLT ~ !"))
        XCTAssertFalse(TextWidth.isPrintableASCII("a\u{1B}b"))
        XCTAssertFalse(TextWidth.isPrintableASCII("a\u{7F}"))
        XCTAssertFalse(TextWidth.isPrintableASCII("é"))
        XCTAssertEqual(TextWidth.of("orders.DLT"), 10)
        XCTAssertEqual(TextWidth.truncated("orders.DLT", to: 6, ellipsis: false), "orders")
        XCTAssertEqual(TextWidth.truncated("orders.DLT", to: 1), "…")
        XCTAssertEqual(TextWidth.of(Character("a")), 1)
        XCTAssertEqual(TextWidth.of(Character("\u{1B}")), 1)
        XCTAssertEqual(TextWidth.of(Character("\r\n")), 1)
        var b = ScreenBuffer(width: 6, height: 1)
        b.put("日本", x: 0, y: 0)
        XCTAssertEqual(b.put("xy", x: 1, y: 0), 2, "an ASCII write over half a wide glyph repairs the other half")
        XCTAssertEqual(b.lines, [" xy   "])
        XCTAssertEqual(b.put("abcdef", x: -2, y: 0, maxWidth: 5), 3)
        XCTAssertEqual(b.lines, ["cde   "])
        // ASCII before other text: the last ASCII letter still joins the mark after it.
        var d = ScreenBuffer(width: 8, height: 1)
        XCTAssertEqual(d.put("abe\u{301}日…", x: 0, y: 0), 6)
        XCTAssertEqual(d[2, 0].symbol, "e\u{301}")
        XCTAssertEqual(d.lines, ["abé日…  "])
        XCTAssertEqual(d.put("1\u{FE0F}\u{20E3}x", x: 0, y: 0), 3, "a keycap is one wide glyph")
        XCTAssertEqual(d.put("ok\u{1B}", x: 0, y: 0, maxWidth: 2), 2)
        XCTAssertEqual(d[1, 0].symbol, "k")
        // A cell assigned a raw control character directly is one column, as TextWidth says of it.
        var c = ScreenBuffer(width: 2, height: 1)
        c[0, 0] = Cell("\u{1B}")
        XCTAssertEqual(c.diff(from: ScreenBuffer(width: 2, height: 1)).count, 1)
    }

    func testFlagAndWarningSignInBuffer() {
        var b = ScreenBuffer(width: 6, height: 1)
        XCTAssertEqual(b.put("⚠️🇯🇵x", x: 0, y: 0), 5)
        XCTAssertEqual(b.lines, ["⚠️🇯🇵x "])
    }
}

/// The measuring fast path (narrow characters that stand alone) agrees with grapheme-by-grapheme measuring.
final class SimpleNarrowTests: XCTestCase {
    /// What the general path says: sanitized, then a Character at a time.
    func general(_ text: String) -> Int { TextWidth.sanitized(text).reduce(0) { $0 + TextWidth.of($1) } }

    func testEveryScalarOfTheFastPathIsOneColumnAndNeverEscaped() {
        var checked = 0
        for v in UInt32(0)...0x2FFF where TextWidth.isSimpleNarrow(v) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let text = String(Character(scalar))
            XCTAssertEqual(TextWidth.of(scalar), 1, "U+\(String(v, radix: 16))")
            XCTAssertEqual(TextWidth.sanitized(text), text, "U+\(String(v, radix: 16)) is escaped")
            XCTAssertEqual(general("a" + text + "b"), 3, "U+\(String(v, radix: 16)) joins a neighbour")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 800)
    }

    func testMixedTextMeasuresAndCutsAlike() {
        for text in ["│ orders ▁▂▃▅▇ ▼", "·…→ ┌─┐", "é 中", "a\u{301}▇", "x\u{1b}[31m▁", "❤️▁", "▁\u{200d}▂"] {
            XCTAssertEqual(TextWidth.of(text), general(text), text)
            for columns in 1...8 {
                let cut = TextWidth.truncated(text, to: columns)
                XCTAssertLessThanOrEqual(TextWidth.of(cut), columns, "\(text) in \(columns)")
            }
        }
        XCTAssertNil(TextWidth.simpleNarrowWidth("▁\u{200d}▂"), "a joiner is not a character of its own")
        var buffer = ScreenBuffer(width: 6, height: 1)
        XCTAssertEqual(buffer.put("a▁▂▃▅▇▇", x: 0, y: 0), 6)
        XCTAssertEqual(buffer.lines, ["a▁▂▃▅▇"])
    }
}
