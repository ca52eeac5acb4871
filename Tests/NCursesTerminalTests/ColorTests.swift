import XCTest
import TerminalUI
@testable import NCursesTerminal

final class ColorMapperTests: XCTestCase {
    func testResolveUsesBoldForBrightForegroundOn8Colours() {
        XCTAssertEqual(ColorMapper.resolve(.ansi(11), for: .basic8, isForeground: true),
                       .init(index: 3, needsBold: true))
        XCTAssertEqual(ColorMapper.resolve(.ansi(11), for: .basic8, isForeground: false),
                       .init(index: 3, needsBold: false))
        XCTAssertEqual(ColorMapper.resolve(.ansi(11), for: .ansi16, isForeground: true),
                       .init(index: 11, needsBold: false))
        XCTAssertEqual(ColorMapper.resolve(.default, for: .palette256, isForeground: true),
                       .init(index: -1, needsBold: false))
        XCTAssertEqual(ColorMapper.resolve(.rgb(255, 0, 0), for: .palette256, isForeground: true).index, 196)
        XCTAssertEqual(ColorMapper.resolve(.rgb(255, 0, 0), for: .none, isForeground: true).index, -1)
        XCTAssertLessThan(ColorMapper.resolve(.indexed(21), for: .ansi16, isForeground: false).index, 16)
        XCTAssertLessThan(ColorMapper.resolve(.rgb(10, 200, 10), for: .basic8, isForeground: true).index, 8)
    }

    func testColorSupportDetectionAndLowering() {
        XCTAssertEqual(NCursesBackend.detectColorSupport(colors: 256), .palette256)
        XCTAssertEqual(NCursesBackend.detectColorSupport(colors: 88), .ansi16)
        XCTAssertEqual(NCursesBackend.detectColorSupport(colors: 8), .basic8)
        XCTAssertEqual(NCursesBackend.detectColorSupport(colors: 0), .none)
        XCTAssertEqual(NCursesBackend.lower(.palette256, to: .basic8), .basic8)
        XCTAssertEqual(NCursesBackend.lower(.basic8, to: .palette256), .basic8)
    }
}

final class ColorPairTableTests: XCTestCase {
    typealias Colors = ColorPairTable.Colors

    func testDefaultColoursArePairZero() {
        var table = ColorPairTable(colorPairs: 64)
        XCTAssertEqual(table.pair(for: Colors(foreground: -1, background: -1)), .existing(0))
        XCTAssertTrue(table.pairs.isEmpty)
    }

    func testAllocatesOnceAndReuses() {
        var table = ColorPairTable(colorPairs: 64)
        XCTAssertEqual(table.pair(for: Colors(foreground: 1, background: -1)), .allocated(1))
        XCTAssertEqual(table.pair(for: Colors(foreground: 2, background: 4)), .allocated(2))
        XCTAssertEqual(table.pair(for: Colors(foreground: 1, background: -1)), .existing(1))
        XCTAssertEqual(table.pairs.count, 2)
    }

    func testFallsBackToNearestPairWhenFull() {
        var table = ColorPairTable(colorPairs: 3) // pairs 1 and 2 are allocatable
        _ = table.pair(for: Colors(foreground: 196, background: 16)) // red on black
        _ = table.pair(for: Colors(foreground: 21, background: 231))  // blue on white
        // Slightly different red on black: nearest is pair 1.
        XCTAssertEqual(table.pair(for: Colors(foreground: 160, background: 16)), .fallback(1))
        XCTAssertEqual(table.pair(for: Colors(foreground: 19, background: 255)), .fallback(2))
        // Near the terminal default: pair 0.
        XCTAssertEqual(table.pair(for: Colors(foreground: -1, background: 7)).pair, 0)
        XCTAssertEqual(table.pairs.count, 2, "fallbacks never allocate")
    }

    func testNoPairsMeansDefault() {
        var table = ColorPairTable(colorPairs: 0)
        XCTAssertEqual(table.pair(for: Colors(foreground: 1, background: 2)), .fallback(0))
    }

    func testPairNumbersStayWithinShort() {
        let table = ColorPairTable(colorPairs: 65536)
        XCTAssertEqual(table.maxPair, Int16.max - 1)
    }

    func testCustomDefaultPair() {
        var table = ColorPairTable(colorPairs: 8, defaultColors: Colors(foreground: 7, background: 0))
        XCTAssertEqual(table.pair(for: Colors(foreground: 7, background: 0)), .existing(0))
    }
}
