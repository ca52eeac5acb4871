import XCTest
@testable import TerminalUI

final class ColorTests: XCTestCase {
    func testRGBToPalette256() {
        XCTAssertEqual(Color.rgb(255, 0, 0).downgraded(to: .palette256), .indexed(196))
        XCTAssertEqual(Color.rgb(0, 0, 0).downgraded(to: .palette256), .indexed(16))
        XCTAssertEqual(Color.rgb(255, 255, 255).downgraded(to: .palette256), .indexed(231))
        XCTAssertEqual(Color.rgb(0x5f, 0xaf, 0xff).downgraded(to: .palette256), .indexed(75))
        XCTAssertEqual(Color.rgb(128, 128, 128).downgraded(to: .palette256), .indexed(244))
        XCTAssertEqual(Color.rgb(0x30, 0x30, 0x30).downgraded(to: .palette256), .indexed(236))
        XCTAssertEqual(Color.rgb(100, 1, 2).downgraded(to: .palette256), .indexed(52))
    }

    func testPaletteRoundTrip() {
        for i in 16...255 {
            let c = Color.rgbOfXterm256(UInt8(i))
            XCTAssertEqual(Color.xterm256Index(r: c.r, g: c.g, b: c.b), UInt8(i), "index \(i)")
        }
    }

    func testToANSI16() {
        XCTAssertEqual(Color.rgb(255, 0, 0).downgraded(to: .ansi16), .ansi(9))
        XCTAssertEqual(Color.rgb(200, 0, 0).downgraded(to: .ansi16), .ansi(1))
        XCTAssertEqual(Color.indexed(196).downgraded(to: .ansi16), .ansi(9))
        XCTAssertEqual(Color.indexed(5).downgraded(to: .ansi16), .ansi(5))
        XCTAssertEqual(Color.indexed(244).downgraded(to: .ansi16), .ansi(8))
        XCTAssertEqual(Color.rgb(0x5f, 0xd7, 0x5f).downgraded(to: .ansi16), .ansi(2))
        XCTAssertEqual(Color.ansi(12).downgraded(to: .ansi16), .ansi(12))
    }

    func testToBasic8() {
        XCTAssertEqual(Color.ansi(9).downgraded(to: .basic8), .ansi(1))
        XCTAssertEqual(Color.ansi(14).downgraded(to: .basic8), .ansi(6))
        XCTAssertEqual(Color.ansi(8).downgraded(to: .basic8), .ansi(7))
        XCTAssertEqual(Color.ansi(3).downgraded(to: .basic8), .ansi(3))
        XCTAssertEqual(Color.rgb(255, 255, 0).downgraded(to: .basic8), .ansi(3))
        XCTAssertEqual(Color.indexed(21).downgraded(to: .basic8), .ansi(4))
        for support in [ColorSupport.basic8] {
            for i in 0...255 {
                guard case .ansi(let n) = Color.indexed(UInt8(i)).downgraded(to: support) else { return XCTFail() }
                XCTAssertLessThan(n, 8)
            }
        }
    }

    func testNoColorAndDefault() {
        XCTAssertEqual(Color.rgb(1, 2, 3).downgraded(to: .none), .default)
        XCTAssertEqual(Color.ansi(3).downgraded(to: .none), .default)
        XCTAssertEqual(Color.default.downgraded(to: .palette256), .default)
        XCTAssertEqual(Color.default.downgraded(to: .basic8), .default)
        XCTAssertEqual(Color.indexed(100).downgraded(to: .palette256), .indexed(100))
    }

    func testStyleDowngradeKeepsHighlightsVisibleWithoutColour() {
        let selected = Style(foreground: .rgb(0, 0, 0), background: .rgb(0x5f, 0xaf, 0xff), attributes: .bold)
        XCTAssertEqual(selected.downgraded(to: .none), Style(attributes: [.bold, .reverse]))
        XCTAssertEqual(selected.downgraded(to: .palette256), Style(foreground: .indexed(16), background: .indexed(75), attributes: .bold))
        let theme = Theme.fallback.downgraded(to: .basic8)
        for style in theme.styles.values {
            for c in [style.foreground, style.background] {
                if case .ansi(let n) = c { XCTAssertLessThan(n, 8) } else { XCTAssertEqual(c, .default) }
            }
        }
    }
}
