/// One cell the terminal must write so that it shows a new frame.
public struct CellUpdate: Sendable, Hashable {
    /// Column.
    public var x: Int
    /// Row.
    public var y: Int
    /// What to write there (never a continuation cell).
    public var cell: Cell

    /// Creates an update.
    public init(x: Int, y: Int, cell: Cell) {
        self.x = x
        self.y = y
        self.cell = cell
    }
}

extension ScreenBuffer {
    /// The cells to write, left to right and top to bottom, so that a terminal showing
    /// `previous` shows `self`.
    ///
    /// When the sizes differ every cell is returned. Continuation cells (the right half of
    /// a wide glyph) are never returned: writing the glyph covers them. As in ratatui's
    /// buffer diff, a cell whose left neighbour used to be a wide glyph is rewritten even
    /// when it compares equal, because the terminal blanked it when that glyph was replaced;
    /// a continuation cell left without its wide glyph is written as a space.
    public func diff(from previous: ScreenBuffer) -> [CellUpdate] {
        var updates: [CellUpdate] = []
        let sameSize = previous.width == width && previous.height == height
        // `before` is read only when the sizes are the same (every cell is written otherwise).
        // Cells are compared where they lie: copying each out would retain and release its symbol.
        cells.withUnsafeBufferPointer { now in
            previous.cells.withUnsafeBufferPointer { before in
                for y in 0..<height {
                    var toSkip = 0       // columns still covered by a wide glyph of `self`
                    var invalidated = 0  // columns still covered by a wide glyph of either frame
                    let row = y * width
                    for x in 0..<width {
                        let currentContinues = now[row + x].isContinuation
                        let currentWidth = currentContinues ? 0 : Self.columns(now[row + x].symbol)
                        let oldWidth = (!sameSize || before[row + x].isContinuation) ? 0 : Self.columns(before[row + x].symbol)
                        if toSkip == 0 {
                            // An orphan continuation (no wide glyph to its left) is shown as a space.
                            if currentContinues {
                                let wanted = Cell(" ", style: now[row + x].style)
                                if !sameSize || wanted != before[row + x] || invalidated > 0 {
                                    updates.append(CellUpdate(x: x, y: y, cell: wanted))
                                }
                            } else if !sameSize || invalidated > 0 || now[row + x] != before[row + x] {
                                updates.append(CellUpdate(x: x, y: y, cell: now[row + x]))
                            }
                        }
                        toSkip = max(0, (toSkip > 0 ? toSkip : currentWidth) - 1)
                        invalidated = max(0, max(currentWidth, oldWidth, invalidated) - 1)
                    }
                }
            }
        }
        return updates
    }

    /// Columns a cell's symbol takes. A one-byte symbol (nearly every cell) is ASCII and one column wide, as
    /// `TextWidth.of` says of it too (a control character is shown escaped, in one column): asked without it.
    @inline(__always)
    static func columns(_ symbol: String) -> Int {
        symbol.utf8.count == 1 ? 1 : TextWidth.of(symbol)
    }
}
