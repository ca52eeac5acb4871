/// An in-memory terminal for tests: it applies each frame's diff to its own screen,
/// the way a real terminal would, and replays queued input events.
///
/// Not `Sendable`: like a real terminal it belongs to one task.
public final class TestBackend: TerminalBackend {
    /// Current size in cells.
    public private(set) var size: Size
    /// How many colours this fake terminal claims to show.
    public var colorSupport: ColorSupport
    /// What the terminal shows now: the result of applying every diff so far.
    public private(set) var buffer: ScreenBuffer
    /// How many frames were drawn.
    public private(set) var drawCount = 0
    /// How many cells the last frame wrote.
    public private(set) var lastUpdateCount = 0
    /// Input events not yet read, oldest first.
    public private(set) var pendingEvents: [InputEvent] = []
    /// What was put on the clipboard, oldest first (as OSC 52 would carry it).
    public private(set) var clipboard: [String] = []

    /// Records the text, as a terminal that honours OSC 52 would take it.
    public func copyToClipboard(_ text: String) -> Bool {
        guard ClipboardSequence.osc52(text) != nil else { return false }
        clipboard.append(text)
        return true
    }

    /// Creates a blank terminal of the given size.
    public init(width: Int, height: Int, colorSupport: ColorSupport = .palette256) {
        self.size = Size(width: width, height: height)
        self.colorSupport = colorSupport
        self.buffer = ScreenBuffer(width: width, height: height)
    }

    /// Shows `frame` by writing only the cells its diff against the current screen names.
    /// A frame of another size than the terminal is clipped to the terminal.
    public func draw(_ frame: ScreenBuffer) {
        let updates = frame.diff(from: buffer)
        drawCount += 1
        lastUpdateCount = updates.count
        var screen = buffer
        if frame.width != screen.width || frame.height != screen.height {
            screen = ScreenBuffer(size: size)
        }
        for update in updates {
            Self.write(update.cell, x: update.x, y: update.y, on: &screen)
        }
        buffer = screen
    }

    /// Emulates a terminal writing one cell: a wide glyph that is partly overwritten
    /// disappears entirely, and a wide glyph covers the next column.
    static func write(_ cell: Cell, x: Int, y: Int, on screen: inout ScreenBuffer) {
        guard x >= 0, y >= 0, x < screen.width, y < screen.height else { return }
        func blankOverlap(_ x: Int) {
            guard x >= 0, x < screen.width else { return }
            if screen[x, y].isContinuation, x > 0 {
                screen[x - 1, y] = Cell(" ", style: screen[x - 1, y].style)
            } else if x + 1 < screen.width, screen[x + 1, y].isContinuation {
                screen[x + 1, y] = Cell(" ", style: screen[x + 1, y].style)
            }
        }
        let wide = TextWidth.of(cell.symbol) == 2
        blankOverlap(x)
        if wide, x + 1 < screen.width { blankOverlap(x + 1) }
        screen[x, y] = cell
        if wide, x + 1 < screen.width { screen[x + 1, y] = Cell("", style: cell.style) }
    }

    /// The next queued event, or nil at once when none is queued (never waits).
    public func nextEvent(timeoutMillis: Int) -> InputEvent? {
        nextEvent()
    }

    /// The next queued event, or nil when none is queued.
    public func nextEvent() -> InputEvent? {
        pendingEvents.isEmpty ? nil : pendingEvents.removeFirst()
    }

    /// Queues an event for `nextEvent`.
    public func enqueue(_ event: InputEvent) {
        pendingEvents.append(event)
    }

    /// Queues several key presses.
    public func enqueue(keys: [Key]) {
        pendingEvents.append(contentsOf: keys.map { .key($0) })
    }

    /// Changes the terminal's size (the screen is cleared, as after SIGWINCH) and queues a `.resize` event.
    public func resize(to newSize: Size) {
        size = newSize
        buffer = ScreenBuffer(size: newSize)
        pendingEvents.append(.resize(newSize))
    }
}
