import XCTest
import TerminalUI
@testable import NCursesTerminal

final class ColorMapperTests: XCTestCase {
    func testRGBToXterm256() {
        XCTAssertEqual(ColorMapper.xterm256(r: 255, g: 0, b: 0), 196)
        XCTAssertEqual(ColorMapper.xterm256(r: 0, g: 0, b: 0), 16)
        XCTAssertEqual(ColorMapper.xterm256(r: 255, g: 255, b: 255), 231)
        XCTAssertEqual(ColorMapper.xterm256(r: 128, g: 128, b: 128), 244, "greys use the 24-step ramp")
        XCTAssertEqual(ColorMapper.xterm256(r: 95, g: 135, b: 175), 67)
    }

    func testPaletteRGB() {
        XCTAssertEqual(ColorMapper.rgb(ofIndex: 196).0, 255)
        XCTAssertTrue(ColorMapper.rgb(ofIndex: 232) == (8, 8, 8))
        XCTAssertTrue(ColorMapper.rgb(ofIndex: 255) == (238, 238, 238))
        XCTAssertTrue(ColorMapper.rgb(ofIndex: 9) == (255, 0, 0))
    }

    func testDowngradeTo256KeepsPaletteColours() {
        XCTAssertEqual(ColorMapper.downgrade(.rgb(255, 0, 0), to: .palette256), .indexed(196))
        XCTAssertEqual(ColorMapper.downgrade(.ansi(12), to: .palette256), .ansi(12))
        XCTAssertEqual(ColorMapper.downgrade(.indexed(67), to: .palette256), .indexed(67))
        XCTAssertEqual(ColorMapper.downgrade(.default, to: .palette256), .default)
    }

    func testDowngradeTo16() {
        XCTAssertEqual(ColorMapper.downgrade(.rgb(250, 10, 10), to: .ansi16), .ansi(9))
        XCTAssertEqual(ColorMapper.downgrade(.indexed(4), to: .ansi16), .ansi(4))
        XCTAssertEqual(ColorMapper.downgrade(.indexed(231), to: .ansi16), .ansi(15))
        XCTAssertEqual(ColorMapper.downgrade(.indexed(16), to: .ansi16), .ansi(0))
        XCTAssertEqual(ColorMapper.downgrade(.ansi(14), to: .ansi16), .ansi(14))
    }

    func testDowngradeTo8AndNone() {
        XCTAssertEqual(ColorMapper.downgrade(.ansi(9), to: .basic8), .ansi(1))
        XCTAssertEqual(ColorMapper.downgrade(.rgb(0, 0, 200), to: .basic8), .ansi(4))
        XCTAssertEqual(ColorMapper.downgrade(.indexed(196), to: .basic8), .ansi(1))
        XCTAssertEqual(ColorMapper.downgrade(.ansi(3), to: .none), .default)
        XCTAssertEqual(ColorMapper.downgrade(.rgb(1, 2, 3), to: .none), .default)
    }

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
