import XCTest
import TerminalUI
@testable import NCursesTerminal

final class InputDecoderTests: XCTestCase {
    private func key(_ code: Int32, keyCode: Bool = false) -> InputDecoder.Decoded {
        InputDecoder.decode(code, isKeyCode: keyCode)
    }

    func testPrintableCharacters() {
        XCTAssertEqual(key(0x61), .event(.key(.char("a"))))
        XCTAssertEqual(key(0x20), .event(.key(.char(" "))))
        XCTAssertEqual(key(0x7E), .event(.key(.char("~"))))
        XCTAssertEqual(key(0x65E5), .event(.key(.char("日"))))
        XCTAssertEqual(key(0x1F600), .event(.key(.char("😀"))))
    }

    func testControlCharacters() {
        XCTAssertEqual(key(1), .event(.key(.ctrl("a"))))
        XCTAssertEqual(key(3), .event(.key(.ctrl("c"))))
        XCTAssertEqual(key(12), .event(.key(.ctrl("l"))))
        XCTAssertEqual(key(26), .event(.key(.ctrl("z"))))
        XCTAssertEqual(key(0), .ignored)
        XCTAssertEqual(key(28), .ignored)
        XCTAssertEqual(key(0x9B), .ignored, "C1 CSI must not become a character")
    }

    func testEnterTabBackspaceEscape() {
        XCTAssertEqual(key(10), .event(.key(.enter)))
        XCTAssertEqual(key(13), .event(.key(.enter)))
        XCTAssertEqual(key(InputDecoder.KeyCode.enter, keyCode: true), .event(.key(.enter)))
        XCTAssertEqual(key(9), .event(.key(.tab)))
        XCTAssertEqual(key(8), .event(.key(.backspace)))
        XCTAssertEqual(key(127), .event(.key(.backspace)))
        XCTAssertEqual(key(InputDecoder.KeyCode.backspace, keyCode: true), .event(.key(.backspace)))
        XCTAssertEqual(key(27), .escape)
    }

    func testNavigationKeys() {
        let K = InputDecoder.KeyCode.self
        let expected: [(Int32, Key)] = [
            (K.up, .up), (K.down, .down), (K.left, .left), (K.right, .right),
            (K.pageUp, .pageUp), (K.pageDown, .pageDown), (K.home, .home), (K.end, .end),
            (K.delete, .delete), (K.backTab, .backTab),
        ]
        for (code, k) in expected {
            XCTAssertEqual(key(code, keyCode: true), .event(.key(k)), "\(k)")
        }
    }

    func testFunctionKeys() {
        for n in 1...12 {
            XCTAssertEqual(key(InputDecoder.KeyCode.function(n), keyCode: true), .event(.key(.function(n))))
        }
        XCTAssertEqual(key(InputDecoder.KeyCode.function(13), keyCode: true), .ignored)
    }

    func testKeyCodeFlagDisambiguates() {
        // KEY_UP (0403) as a plain character is U+0103 "ă", not an arrow.
        XCTAssertEqual(key(InputDecoder.KeyCode.up, keyCode: false), .event(.key(.char("ă"))))
        XCTAssertEqual(key(9999, keyCode: true), .ignored)
    }

    func testResizeAndMouse() {
        XCTAssertEqual(key(InputDecoder.KeyCode.resize, keyCode: true), .resize)
        XCTAssertEqual(key(InputDecoder.KeyCode.mouse, keyCode: true), .mouse)
        XCTAssertEqual(InputDecoder.decodeMouse(buttonState: InputDecoder.wheelUpMask), .scroll(-3))
        XCTAssertEqual(InputDecoder.decodeMouse(buttonState: InputDecoder.wheelDownMask), .scroll(3))
        XCTAssertNil(InputDecoder.decodeMouse(buttonState: 0))
        XCTAssertNotEqual(InputDecoder.wheelUpMask, InputDecoder.wheelDownMask)
    }

    func testEscapeSequences() {
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[A"), .up)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("OB"), .down)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[C"), .right)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[D"), .left)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[5~"), .pageUp)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[6~"), .pageDown)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[H"), .home)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[4~"), .end)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[3~"), .delete)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[Z"), .backTab)
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("OP"), .function(1))
        XCTAssertEqual(InputDecoder.decodeEscapeSequence("[24~"), .function(12))
        XCTAssertNil(InputDecoder.decodeEscapeSequence("[1;5A"))
        XCTAssertTrue(InputDecoder.isSequenceFinal(0x41))  // A
        XCTAssertTrue(InputDecoder.isSequenceFinal(0x7E))  // ~
        XCTAssertFalse(InputDecoder.isSequenceFinal(0x35)) // 5
        XCTAssertFalse(InputDecoder.isSequenceFinal(0x3B)) // ;
    }
}
