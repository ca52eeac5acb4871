import XCTest
import TerminalUI
@testable import NCursesTerminal
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
// glibc declares these only under _XOPEN_SOURCE, which Swift's precompiled Glibc module
// lacks; bind the C symbols directly (plain int/char* ABI).
@_silgen_name("posix_openpt") private func posix_openpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") private func grantpt(_ fd: Int32) -> Int32
@_silgen_name("unlockpt") private func unlockpt(_ fd: Int32) -> Int32
@_silgen_name("ptsname_r") private func ptsname_r(_ fd: Int32, _ buf: UnsafeMutablePointer<CChar>, _ len: Int) -> Int32
#endif

/// A pseudo terminal: the backend writes to the slave, the test reads what reached the master.
private final class PseudoTerminal {
    let master: Int32
    let slave: Int32

    init(columns: UInt16, rows: UInt16) throws {
        master = posix_openpt(O_RDWR | O_NOCTTY)
        guard master >= 0, grantpt(master) == 0, unlockpt(master) == 0 else {
            throw XCTSkip("no pseudo terminals here")
        }
        var name = [CChar](repeating: 0, count: 128)
        guard ptsname_r(master, &name, name.count) == 0 else { throw XCTSkip("ptsname_r failed") }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        slave = open(path, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw XCTSkip("cannot open the pty slave") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(slave, UInt(TIOCSWINSZ), &size)
        // Non-blocking reads: drain() stops once nothing more arrives.
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(slave)
        close(master)
    }

    /// Everything written so far. Linux hands pty data over asynchronously, so wait
    /// for a short quiet period rather than reading once.
    func drain(quietMillis: Int32 = 150) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, quietMillis) > 0 else { break }
            let n = read(master, &chunk, chunk.count)
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Types bytes as if from the keyboard.
    func type(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }
}

private extension Array where Element == UInt8 {
    func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}

final class PseudoTerminalTests: XCTestCase {
    private func makeBackend(_ pty: PseudoTerminal, colorMode: ColorSupport? = nil, noColor: Bool = false) throws -> NCursesBackend {
        try NCursesBackend(terminalType: "xterm-256color", inputFileDescriptor: pty.slave,
                           outputFileDescriptor: pty.slave, colorMode: colorMode, noColor: noColor)
    }

    func testDrawsOnlyChangedCells() throws {
        let pty = try PseudoTerminal(columns: 40, rows: 10)
        let backend = try makeBackend(pty)
        defer { backend.restore() }

        XCTAssertEqual(backend.size, Size(width: 40, height: 10))
        XCTAssertEqual(backend.colorSupport, .palette256)

        var frame = ScreenBuffer(width: 40, height: 10)
        frame.put("hello 日本 \u{1B}x", x: 0, y: 0, style: Style(foreground: .ansi(10), attributes: .bold))
        frame.put("bottom-right", x: 28, y: 9, style: Style(foreground: .rgb(255, 0, 0), background: .indexed(17)))
        backend.draw(frame)
        let first = pty.drain()
        XCTAssertTrue(first.contains("hello"), "first frame: \(String(decoding: first, as: UTF8.self).debugDescription)")
        XCTAssertTrue(first.contains("日本"))
        XCTAssertTrue(first.contains("␛x"), "ESC in text is drawn as a visible symbol")
        XCTAssertTrue(first.contains("bottom-righ"), "the last cell may be written without scrolling")
        XCTAssertFalse(first.contains("\u{1B}x"), "no raw ESC from the buffer's text")

        backend.draw(frame)
        let second = pty.drain()
        XCTAssertLessThan(second.count, first.count)
        XCTAssertFalse(second.contains("hello"), "an unchanged frame writes no text: \(second)")
        XCTAssertFalse(second.contains("日本"))

        frame[1, 0] = Cell("a", style: frame[1, 0].style)
        backend.draw(frame)
        let third = pty.drain()
        XCTAssertTrue(third.contains("a"))
        XCTAssertFalse(third.contains("hello"))
        XCTAssertFalse(third.contains("hallo"), "only the changed cell is written")
        XCTAssertFalse(third.contains("日本"))
        XCTAssertLessThan(third.count, 40, "one cell plus cursor motion: \(String(decoding: third, as: UTF8.self).debugDescription)")

        // Replacing a wide glyph with narrow ones, and back, keeps the row intact.
        frame.put("ab", x: 6, y: 0, style: Style(foreground: .ansi(10), attributes: .bold))
        backend.draw(frame)
        let fourth = pty.drain()
        XCTAssertTrue(fourth.contains("ab"))
        XCTAssertFalse(fourth.contains("日"))

        backend.restore()
        backend.restore() // idempotent
        let afterRestore = pty.drain()
        XCTAssertTrue(afterRestore.contains("\u{1B}[?1049l"), "endwin leaves the alternate screen")
        backend.draw(frame) // ignored after restore
        XCTAssertTrue(pty.drain().isEmpty)
    }

    func testNoColorWritesNoColourSequences() throws {
        let pty = try PseudoTerminal(columns: 20, rows: 4)
        let backend = try makeBackend(pty, noColor: true)
        defer { backend.restore() }
        XCTAssertEqual(backend.colorSupport, .none)
        var frame = ScreenBuffer(width: 20, height: 4)
        frame.put("red", x: 0, y: 0, style: Style(foreground: .ansi(1), attributes: .underline))
        backend.draw(frame)
        let out = pty.drain()
        XCTAssertTrue(out.contains("red"))
        XCTAssertFalse(out.contains("\u{1B}[31m") || out.contains("\u{1B}[38;5;1m"), "no foreground colour")
    }

    func testColorModeIsLoweredToTheTerminal() throws {
        let pty = try PseudoTerminal(columns: 20, rows: 4)
        let backend = try NCursesBackend(terminalType: "xterm", inputFileDescriptor: pty.slave,
                                         outputFileDescriptor: pty.slave, colorMode: .palette256, noColor: false)
        defer { backend.restore() }
        XCTAssertEqual(backend.colorSupport, .basic8)
    }

    func testDecodesTypedKeys() throws {
        let pty = try PseudoTerminal(columns: 20, rows: 4)
        let backend = try makeBackend(pty)
        defer { backend.restore() }
        backend.draw(ScreenBuffer(width: 20, height: 4)) // sends smkx: arrows in application mode
        _ = pty.drain()

        func next() -> InputEvent? { backend.nextEvent(timeoutMillis: 500) }
        pty.type(Array("q".utf8))
        XCTAssertEqual(next(), .key(.char("q")))
        pty.type(Array("日".utf8))
        XCTAssertEqual(next(), .key(.char("日")))
        pty.type([0x1B, 0x4F, 0x41]) // xterm application-mode up
        XCTAssertEqual(next(), .key(.up))
        pty.type([0x1B, 0x5B, 0x36, 0x7E]) // page down
        XCTAssertEqual(next(), .key(.pageDown))
        pty.type([0x0D])
        XCTAssertEqual(next(), .key(.enter))
        pty.type([0x7F])
        XCTAssertEqual(next(), .key(.backspace))
        pty.type([0x09])
        XCTAssertEqual(next(), .key(.tab))
        pty.type([0x1B, 0x5B, 0x5A])
        XCTAssertEqual(next(), .key(.backTab))
        pty.type([0x1B])
        XCTAssertEqual(next(), .key(.escape))
        pty.type([0x12]) // Ctrl-R
        XCTAssertEqual(next(), .key(.ctrl("r")))
        pty.type([0x1B, 0x5B, 0x31, 0x3B, 0x35, 0x41]) // Ctrl-Up: unknown, swallowed whole
        XCTAssertNil(next())
        pty.type(Array("z".utf8))
        XCTAssertEqual(next(), .key(.char("z")), "no stray bytes of the swallowed sequence")
        // xterm-256color's terminfo uses SGR (1006) mouse reports: button 64/65 = wheel up/down.
        pty.type(Array("\u{1B}[<64;5;2M".utf8))
        XCTAssertEqual(next(), .scroll(-3))
        pty.type(Array("\u{1B}[<65;5;2M".utf8))
        XCTAssertEqual(next(), .scroll(3))
        XCTAssertNil(backend.nextEvent(timeoutMillis: 0))
    }

    func testResizeIsReportedAndForcesFullRedraw() throws {
        let pty = try PseudoTerminal(columns: 30, rows: 5)
        let backend = try makeBackend(pty)
        defer { backend.restore() }
        var frame = ScreenBuffer(width: 30, height: 5)
        frame.put("resize me", x: 0, y: 0)
        backend.draw(frame)
        _ = pty.drain()

        var size = winsize(ws_row: 6, ws_col: 30, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(pty.slave, UInt(TIOCSWINSZ), &size)
        // No controlling terminal here, so deliver the SIGWINCH ncurses listens for by hand.
        raise(SIGWINCH)
        XCTAssertEqual(backend.nextEvent(timeoutMillis: 500), .resize(Size(width: 30, height: 6)))

        var bigger = ScreenBuffer(width: 30, height: 6)
        bigger.put("resize me", x: 0, y: 0)
        backend.draw(bigger)
        XCTAssertTrue(pty.drain().contains("resize me"), "after a resize every cell is written again")
    }

    func testUnknownTerminalThrows() throws {
        let pty = try PseudoTerminal(columns: 20, rows: 4)
        XCTAssertThrowsError(try NCursesBackend(terminalType: "no-such-terminal-xyz", inputFileDescriptor: pty.slave,
                                                outputFileDescriptor: pty.slave, noColor: false)) { error in
            XCTAssertTrue("\(error)".contains("no-such-terminal-xyz"))
        }
    }
}
