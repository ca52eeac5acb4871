import XCTest
@testable import TerminalUI

final class TestBackendTests: XCTestCase {
    func testDrawAppliesDiffAndCounts() {
        let backend = TestBackend(width: 10, height: 2)
        XCTAssertEqual(backend.size, Size(width: 10, height: 2))
        var f = ScreenBuffer(width: 10, height: 2)
        f.put("hello", x: 0, y: 0)
        backend.draw(f)
        XCTAssertEqual(backend.drawCount, 1)
        XCTAssertEqual(backend.lastUpdateCount, 5)
        XCTAssertEqual(backend.buffer, f)
        backend.draw(f)
        XCTAssertEqual(backend.drawCount, 2)
        XCTAssertEqual(backend.lastUpdateCount, 0)
        f.put("J", x: 0, y: 1)
        backend.draw(f)
        XCTAssertEqual(backend.lastUpdateCount, 1)
        XCTAssertEqual(backend.buffer.plainText, "hello\nJ")
    }

    func testEventQueue() {
        let backend = TestBackend(width: 4, height: 4, colorSupport: .basic8)
        XCTAssertEqual(backend.colorSupport, .basic8)
        XCTAssertNil(backend.nextEvent(timeoutMillis: 0))
        backend.enqueue(.key(.char("j")))
        backend.enqueue(keys: [.enter, .escape])
        XCTAssertEqual(backend.nextEvent(timeoutMillis: 100), .key(.char("j")))
        XCTAssertEqual(backend.nextEvent(), .key(.enter))
        XCTAssertEqual(backend.nextEvent(), .key(.escape))
        XCTAssertNil(backend.nextEvent())
    }

    func testResizeEnqueuesEventAndClearsScreen() {
        let backend = TestBackend(width: 4, height: 2)
        backend.draw(ScreenBuffer(width: 4, height: 2))
        backend.resize(to: Size(width: 6, height: 3))
        XCTAssertEqual(backend.size, Size(width: 6, height: 3))
        XCTAssertEqual(backend.nextEvent(), .resize(Size(width: 6, height: 3)))
        var f = ScreenBuffer(width: 6, height: 3)
        f.put("x", x: 5, y: 2)
        backend.draw(f)
        XCTAssertEqual(backend.lastUpdateCount, 1) // the resized screen starts blank
        XCTAssertEqual(backend.buffer, f)
    }

    func testUsableAsTerminalBackend() {
        let backend: any TerminalBackend = TestBackend(width: 2, height: 1)
        backend.draw(ScreenBuffer(width: 2, height: 1))
        XCTAssertNil(backend.nextEvent(timeoutMillis: 10))
    }
}
