import CNCurses
import TerminalUI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the terminal could not be put into curses mode.
public enum NCursesError: Error, CustomStringConvertible, Sendable {
    /// No terminal to draw on: /dev/tty cannot be opened and stdin/stdout are not terminals.
    case noTerminal
    /// ncurses rejected the terminal (TERM unset or unknown to terminfo).
    case cannotInitialize(terminalType: String)
    /// A file descriptor could not be wrapped (dup/fdopen failed).
    case badFileDescriptor(Int32)

    /// A message fit for the user.
    public var description: String {
        switch self {
        case .noTerminal:
            return "evtop needs a terminal: /dev/tty cannot be opened and stdin/stdout are not terminals"
        case .cannotInitialize(let term):
            return "cannot initialise the terminal (TERM=\(term.isEmpty ? "<unset>" : term)): unknown to terminfo; try TERM=xterm-256color"
        case .badFileDescriptor(let fd):
            return "cannot use file descriptor \(fd) as a terminal"
        }
    }
}

/// The ncurses implementation of `TerminalBackend`: setup and teardown, colour pairs,
/// wide characters, resize and input decoding.
///
/// Thread confinement: ncurses keeps global state and is not thread-safe, so this class
/// is deliberately not `Sendable` — the compiler then keeps it in the isolation domain
/// that created it. Create it, draw and read input from the one run loop (one actor or
/// the main thread) and nowhere else. Only the C signal handlers installed by `init`
/// touch ncurses from elsewhere, and they only call `endwin`.
///
/// Output goes to /dev/tty (not stdout), so `evtop > file` or a piped stdin does not break
/// the display. Call `restore()` from a `defer` in main; it is idempotent and also runs
/// from `deinit`, and SIGINT/SIGTERM/SIGHUP/SIGQUIT and crash signals restore too.
public final class NCursesBackend: TerminalBackend {
    /// How many colours frames are drawn with (after NO_COLOR and the terminal's limit).
    public let colorSupport: ColorSupport
    /// The file descriptor keys arrive on; a run loop may poll it for readability.
    public let inputFileDescriptor: Int32

    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private let outputFile: UnsafeMutablePointer<FILE>
    private let inputFile: UnsafeMutablePointer<FILE>
    private var isRestored = false

    /// The frame last handed to ncurses; nil forces a full redraw (first frame, resize).
    private var lastFrame: ScreenBuffer?
    /// Also clear the physical screen on the next full redraw (after a resize the
    /// terminal may have reflowed or garbled what was there).
    private var clearPhysicalScreen = false

    private var pairTable: ColorPairTable
    private var styleCache: [ColorKey: (pair: Int16, bold: Bool)] = [:]
    private let defaultColorsAvailable: Bool
    private let attributeBits: (bold: attr_t, dim: attr_t, underline: attr_t, reverse: attr_t, italic: attr_t)

    private struct ColorKey: Hashable {
        var foreground: Color
        var background: Color
    }

    // MARK: - Setup

    /// Opens the controlling terminal (/dev/tty) and enters curses mode.
    /// - Parameters:
    ///   - colorMode: colours to use; nil detects them from terminfo. A mode richer than
    ///     the terminal's is lowered to what it has (ncurses cannot set colours it lacks).
    ///   - noColor: true when NO_COLOR is set: attributes only, whatever the terminal has.
    /// - Throws: `NCursesError` when there is no terminal or TERM is unknown.
    public convenience init(colorMode: ColorSupport? = nil, noColor: Bool) throws {
        // /dev/tty rather than stdin/stdout: redirecting either must not break the display.
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        if tty >= 0 {
            defer { close(tty) } // the designated init dups it
            try self.init(terminalType: nil, inputFileDescriptor: tty, outputFileDescriptor: tty,
                          colorMode: colorMode, noColor: noColor)
        } else if isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 {
            try self.init(terminalType: nil, inputFileDescriptor: STDIN_FILENO, outputFileDescriptor: STDOUT_FILENO,
                          colorMode: colorMode, noColor: noColor)
        } else {
            throw NCursesError.noTerminal
        }
    }

    /// Enters curses mode on explicit file descriptors (a pty in tests, or a chosen tty).
    /// The descriptors are duplicated, so the caller keeps and closes its own.
    /// - Parameters:
    ///   - terminalType: the terminfo name; nil uses $TERM.
    ///   - inputFileDescriptor: where keys are read.
    ///   - outputFileDescriptor: where frames are written.
    ///   - colorMode: see `init(colorMode:noColor:)`.
    ///   - noColor: see `init(colorMode:noColor:)`.
    public init(terminalType: String?, inputFileDescriptor: Int32, outputFileDescriptor: Int32,
                colorMode: ColorSupport? = nil, noColor: Bool) throws {
        // Wide characters only work when the locale says UTF-8; must precede newterm.
        Self.selectUTF8Locale()

        guard let output = Self.openFile(duplicating: outputFileDescriptor, mode: "w") else {
            throw NCursesError.badFileDescriptor(outputFileDescriptor)
        }
        guard let input = Self.openFile(duplicating: inputFileDescriptor, mode: "r") else {
            fclose(output)
            throw NCursesError.badFileDescriptor(inputFileDescriptor)
        }
        // newterm, unlike initscr, returns NULL for an unknown terminal instead of exiting.
        let created: OpaquePointer? = if let terminalType {
            terminalType.withCString { newterm($0, output, input) }
        } else {
            newterm(nil, output, input)
        }
        guard let created, let standard = cnc_stdscr() else {
            fclose(input)
            fclose(output)
            let term = terminalType ?? ProcessInfoLite.environment("TERM") ?? ""
            throw NCursesError.cannotInitialize(terminalType: term)
        }
        screen = created
        window = standard
        outputFile = output
        inputFile = input
        self.inputFileDescriptor = fileno(input)

        cbreak()            // keys arrive unbuffered, but Ctrl-C/Ctrl-Z still raise signals
        noecho()
        nonl()              // Enter arrives as 13 and ncurses may use LF for cursor motion
        keypad(window, true)
        scrollok(window, false) // the bottom-right cell must never scroll the screen
        leaveok(window, true)   // the cursor is hidden, so don't spend bytes parking it
        intrflush(window, false)
        wtimeout(window, 0)
        curs_set(0)
        set_escdelay(25)    // a lone Esc is reported after 25 ms instead of 1 s
        mousemask(cnc_BUTTON4_PRESSED() | cnc_BUTTON5_PRESSED(), nil)
        mouseinterval(0)    // wheel notches are presses only: don't wait to detect clicks

        var support = ColorSupport.none
        var defaultColors = false
        if !noColor, colorMode != ColorSupport.none, has_colors() {
            start_color()
            // -1 then means "the terminal's own colour", so transparent backgrounds stay.
            defaultColors = use_default_colors() == cnc_OK()
            let detected = Self.detectColorSupport(colors: Int(cnc_COLORS()))
            support = Self.lower(colorMode ?? detected, to: detected)
        }
        colorSupport = support
        defaultColorsAvailable = defaultColors
        pairTable = ColorPairTable(
            colorPairs: support == .none ? 0 : Int(cnc_COLOR_PAIRS()),
            // Without default-colour support pair 0 is white on black.
            defaultColors: defaultColors ? .init(foreground: -1, background: -1) : .init(foreground: 7, background: 0))
        attributeBits = (cnc_A_BOLD(), cnc_A_DIM(), cnc_A_UNDERLINE(), cnc_A_REVERSE(), cnc_A_ITALIC())

        // After newterm, so ours (which re-raise) replace ncurses' own SIGINT/SIGTERM handlers.
        cnc_install_signal_restore()
    }

    deinit {
        restore()
        delscreen(screen)
        fclose(inputFile)
        fclose(outputFile)
    }

    /// The termination signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) received since start, if any.
    /// The run loop checks it each pass, restores the terminal, then calls `reraise`.
    public var pendingTerminationSignal: Int32? {
        let sig = cnc_pending_termination_signal()
        return sig == 0 ? nil : sig
    }

    /// Ends the process by `signal` with its default action, so the exit status tells the shell.
    public static func reraise(_ signal: Int32) {
        cnc_reraise(signal)
    }

    /// Leaves curses mode and gives the terminal back (main screen, cursor, echo).
    /// Idempotent; safe from a `defer`, an error path and `deinit`. Drawing and input
    /// do nothing afterwards.
    public func restore() {
        guard !isRestored else { return }
        isRestored = true
        set_term(screen)
        curs_set(1)
        endwin()
    }

    /// Current size in cells, as ncurses last learned it (it tracks SIGWINCH).
    public var size: Size {
        Size(width: Int(getmaxx(window)), height: Int(getmaxy(window)))
    }

    // MARK: - Drawing

    /// Shows `buffer`, writing only the cells that differ from the last frame, then one doupdate.
    /// Writes OSC 52 to the terminal after the frame; ncurses does not see it (it moves no cursor and draws nothing).
    public func copyToClipboard(_ text: String) -> Bool {
        guard !isRestored, let sequence = ClipboardSequence.osc52(text) else { return false }
        fputs(sequence, outputFile)
        fflush(outputFile)
        return true
    }

    public func draw(_ buffer: ScreenBuffer) {
        guard !isRestored else { return }
        let updates: [CellUpdate]
        if let lastFrame, lastFrame.width == buffer.width, lastFrame.height == buffer.height {
            updates = buffer.diff(from: lastFrame)
        } else {
            // First frame or new size: start from a blank screen and write only non-blank cells.
            werase(window)
            if clearPhysicalScreen { clearok(window, true) }
            clearPhysicalScreen = false
            updates = buffer.diff(from: ScreenBuffer(width: buffer.width, height: buffer.height))
        }

        var symbol = [wchar_t](repeating: 0, count: Int(CCHARW_MAX) + 1)
        var pendingRewrite: (x: Int, y: Int)?
        for update in updates {
            if let pending = pendingRewrite, pending != (update.x, update.y) {
                rewriteIfNeeded(pending, in: buffer, symbol: &symbol)
            }
            pendingRewrite = write(update.cell, x: update.x, y: update.y, in: buffer, symbol: &symbol)
        }
        if let pending = pendingRewrite { rewriteIfNeeded(pending, in: buffer, symbol: &symbol) }
        wnoutrefresh(window)
        doupdate()
        lastFrame = buffer
    }

    private func rewriteIfNeeded(_ position: (x: Int, y: Int), in buffer: ScreenBuffer, symbol: inout [wchar_t]) {
        guard position.x < buffer.width else { return }
        var cell = buffer[position.x, position.y]
        if cell.isContinuation { cell.symbol = " " }
        _ = write(cell, x: position.x, y: position.y, in: buffer, symbol: &symbol)
    }

    /// Writes one cell. Returns the position of the next cell when the terminal's width for
    /// this glyph (libc wcwidth) is 2 but the buffer's is 1: ncurses then covered that
    /// cell, and rewriting it keeps the rest of the row in its columns.
    private func write(_ cell: Cell, x: Int, y: Int, in buffer: ScreenBuffer, symbol: inout [wchar_t]) -> (x: Int, y: Int)? {
        var count = 0
        for scalar in cell.symbol.unicodeScalars where count < Int(CCHARW_MAX) {
            symbol[count] = wchar_t(bitPattern: Self.displayable(scalar).value)
            count += 1
        }
        if count == 0 { symbol[0] = 0x20; count = 1 }
        symbol[count] = 0
        let (attributes, pair) = attributesAndPair(for: cell.style)
        // Ignore ERR: it is expected at the bottom-right cell (the cell is still drawn).
        _ = symbol.withUnsafeBufferPointer { wch in
            cnc_mvwadd_wchars(window, Int32(y), Int32(x), wch.baseAddress, attributes, pair)
        }
        let bufferSaysWide = x + 1 < buffer.width && buffer[x + 1, y].isContinuation
        let terminalWidth = cnc_wcwidth(symbol[0])
        if bufferSaysWide && terminalWidth == 1 {
            // The terminal drew it narrow: fill the column it left so nothing stale shows.
            _ = cnc_mvwadd_wchars(window, Int32(y), Int32(x + 1), [0x20, 0], attributes, pair)
        }
        return !bufferSaysWide && terminalWidth == 2 ? (x + 1, y) : nil
    }

    /// Control characters must never reach the terminal raw (defence in depth: `put`
    /// already escapes them, but cells can be assigned directly).
    private static func displayable(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let v = scalar.value
        if v < 0x20 { return Unicode.Scalar(0x2400 + v) ?? "?" }
        if v == 0x7F { return "\u{2421}" }
        if (0x80...0x9F).contains(v) { return "\u{FFFD}" }
        return scalar
    }

    private func attributesAndPair(for original: Style) -> (attr_t, Int16) {
        // Without colour, TerminalUI turns a coloured background into reverse video.
        let style = colorSupport == .none ? original.downgraded(to: .none) : original
        var attributes = cnc_A_NORMAL()
        let a = style.attributes
        if a.contains(.bold) { attributes |= attributeBits.bold }
        if a.contains(.dim) { attributes |= attributeBits.dim }
        if a.contains(.underline) { attributes |= attributeBits.underline }
        if a.contains(.reverse) { attributes |= attributeBits.reverse }
        if a.contains(.italic) { attributes |= attributeBits.italic }
        guard colorSupport != .none else { return (attributes, 0) }

        let key = ColorKey(foreground: style.foreground, background: style.background)
        let resolved: (pair: Int16, bold: Bool)
        if let cached = styleCache[key] {
            resolved = cached
        } else {
            var fg = ColorMapper.resolve(style.foreground, for: colorSupport, isForeground: true)
            var bg = ColorMapper.resolve(style.background, for: colorSupport, isForeground: false)
            if !defaultColorsAvailable {
                if fg.index < 0 { fg.index = 7 }
                if bg.index < 0 { bg.index = 0 }
            }
            let lookup = pairTable.pair(for: .init(foreground: fg.index, background: bg.index))
            if case .allocated(let pair) = lookup {
                init_pair(pair, fg.index, bg.index)
            }
            resolved = (lookup.pair, fg.needsBold)
            styleCache[key] = resolved
        }
        if resolved.bold { attributes |= attributeBits.bold }
        return (attributes, resolved.pair)
    }

    // MARK: - Input

    /// Waits up to `timeoutMillis` (negative: forever, 0: just poll) for input.
    public func nextEvent(timeoutMillis: Int) -> InputEvent? {
        guard !isRestored else { return nil }
        wtimeout(window, Int32(clamping: timeoutMillis))
        guard let (code, isKeyCode) = readCode() else { return nil }
        switch InputDecoder.decode(code, isKeyCode: isKeyCode) {
        case .event(let event):
            return event
        case .resize:
            // ncurses has already resized stdscr; repaint everything on the next frame.
            lastFrame = nil
            clearPhysicalScreen = true
            return .resize(size)
        case .mouse:
            return InputDecoder.decodeMouse(buttonState: UInt(cnc_getmouse_bstate()))
        case .escape:
            return decodeAfterEscape()
        case .ignored:
            return nil
        }
    }

    private func readCode() -> (Int32, Bool)? {
        var character: wint_t = 0
        let result = wget_wch(window, &character)
        if result == cnc_ERR() { return nil }
        return (Int32(bitPattern: UInt32(character)), result == cnc_KEY_CODE_YES())
    }

    /// After ESC, bytes already waiting belong to the same key press (ncurses waited
    /// ESCDELAY for them): a CSI/SS3 sequence terminfo did not know, or Alt+key.
    private func decodeAfterEscape() -> InputEvent? {
        wtimeout(window, 0)
        guard let (next, nextIsKeyCode) = readCode() else { return .key(.escape) }
        if nextIsKeyCode {
            ungetch(next)
            return .key(.escape)
        }
        switch next {
        case 27:
            unget_wch(wchar_t(next)) // Esc Esc: report one, keep the other
            return .key(.escape)
        case 0x5B, 0x4F: // "[" or "O"
            var body = String(Unicode.Scalar(UInt8(next)))
            for _ in 0..<16 {
                guard let (byte, isKey) = readCode(), !isKey, let scalar = Unicode.Scalar(UInt32(byte)) else { break }
                body.unicodeScalars.append(scalar)
                if InputDecoder.isSequenceFinal(byte), body.count > 1 { break }
            }
            return InputDecoder.decodeEscapeSequence(body).map { InputEvent.key($0) }
        default:
            return nil // Alt+key: the key map has no Alt bindings, so drop it rather than misfire
        }
    }

    // MARK: - Helpers

    private static func openFile(duplicating fd: Int32, mode: String) -> UnsafeMutablePointer<FILE>? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        guard let file = fdopen(copy, mode) else {
            close(copy)
            return nil
        }
        return file
    }

    /// Adopts the user's locale; when that is not UTF-8 (LANG unset in a container or CI),
    /// switches character handling to C.UTF-8 so wide glyphs are still written as UTF-8
    /// rather than as ncurses' `~@`-style fallbacks.
    private static func selectUTF8Locale() {
        setlocale(LC_ALL, "")
        if let codeset = nl_langinfo(nl_item(CODESET)),
           String(cString: codeset).uppercased().filter({ $0 != "-" }) == "UTF8" {
            return
        }
        if setlocale(LC_CTYPE, "C.UTF-8") == nil { setlocale(LC_CTYPE, "en_US.UTF-8") }
    }

    /// ColorSupport from terminfo's `colors`.
    static func detectColorSupport(colors: Int) -> ColorSupport {
        switch colors {
        case 256...: return .palette256
        case 16...: return .ansi16
        case 8...: return .basic8
        default: return .none
        }
    }

    /// `requested`, but never richer than what the terminal has.
    static func lower(_ requested: ColorSupport, to available: ColorSupport) -> ColorSupport {
        func rank(_ s: ColorSupport) -> Int {
            switch s {
            case .none: return 0
            case .basic8: return 1
            case .ansi16: return 2
            case .palette256: return 3
            }
        }
        return rank(requested) <= rank(available) ? requested : available
    }
}

/// getenv without Foundation (this target needs nothing else from it).
private enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
