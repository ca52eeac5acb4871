/// A frame: a grid of cells that views draw into, diffed against the previous frame.
public struct ScreenBuffer: Sendable, Hashable {
    /// Width in columns.
    public private(set) var width: Int
    /// Height in rows.
    public private(set) var height: Int
    /// Cells in row-major order.
    public private(set) var cells: [Cell]

    /// A blank buffer of the given size.
    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// A blank buffer of the given size.
    public init(size: Size) { self.init(width: size.width, height: size.height) }

    /// The whole buffer as a rectangle.
    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at (x, y); a blank cell outside the buffer.
    public subscript(x: Int, y: Int) -> Cell {
        get {
            guard x >= 0, y >= 0, x < width, y < height else { return .blank }
            return cells[y * width + x]
        }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Fills `rect` (clipped to the buffer) with `cell`.
    /// A wide glyph cut in half by the rectangle's edges is replaced by a space.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            clearWideOverlap(x: r.x, y: y)
            clearWideOverlap(x: r.maxX - 1, y: y)
            let base = y * width
            for x in r.x..<r.maxX { cells[base + x] = cell }
        }
    }

    /// Sets the style of every cell in `rect`, keeping symbols.
    public mutating func setStyle(_ rect: Rect, style: Style) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { cells[y * width + x].style = style }
        }
    }

    /// Lays `style` over every cell in `rect` (non-default parts win), keeping symbols.
    public mutating func patchStyle(_ rect: Rect, with style: Style) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { cells[y * width + x].style = cells[y * width + x].style.patched(with: style) }
        }
    }

    /// Writes `text` at (x, y), at most `maxWidth` columns, never past the right edge.
    /// Control characters are escaped first; a wide glyph that would straddle the limit
    /// (or the left edge) is replaced by a space. Returns the number of columns written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        // Columns are counted from `x`; `end` is one past the last column we may write.
        let allowed = min(max(0, maxWidth ?? Int.max), width - x)
        guard allowed > 0 else { return 0 }
        let end = x + allowed
        var col = x
        // The printable ASCII start of the text (most text is nothing else, or ends in "…"): one column a byte,
        // nothing to escape or join, without grapheme breaking. Its last byte goes the general way when
        // something else follows, since a mark after it may join it (`e` + U+0301, a keycap `1` + U+FE0F U+20E3).
        let utf8 = text.utf8
        var ascii = 0
        for b in utf8 {
            guard b >= 0x20, b < 0x7F else { break }
            ascii += 1
        }
        if ascii < utf8.count { ascii = max(0, ascii - 1) }
        for b in utf8.prefix(ascii) {
            guard col < end else { return max(0, col - max(x, 0)) }
            if col >= 0 { writeCell(Cell(Self.asciiSymbols[Int(b - 0x20)], style: style), x: col, y: y) }
            col += 1
        }
        if ascii == utf8.count { return max(0, col - max(x, 0)) }
        let rest = utf8.index(utf8.startIndex, offsetBy: ascii)
        // Borders, bars and sparklines: narrow characters that stand alone (``TextWidth/simpleNarrowWidth(_:)``),
        // a scalar a column, without grapheme breaking.
        let tail = text[rest...]
        if tail.unicodeScalars.allSatisfy({ TextWidth.isSimpleNarrow($0.value) }) {
            for scalar in tail.unicodeScalars {
                guard col < end else { break }
                if col >= 0 { writeCell(Cell(Self.symbol(scalar), style: style), x: col, y: y) }
                col += 1
            }
            return max(0, col - max(x, 0))
        }
        for ch in TextWidth.sanitized(String(text[rest...])) {
            let w = TextWidth.of(ch)
            if w == 0 {
                // A lone combining mark or zero-width scalar: attach it to the previous glyph.
                if col > x, col - 1 >= 0 {
                    var prev = col - 1
                    if self[prev, y].isContinuation, prev > 0 { prev -= 1 }
                    self[prev, y].symbol.append(ch)
                }
                continue
            }
            if col + w > end {
                // A wide glyph that does not fit: show a space in the one column left.
                if w == 2, col < end, col >= 0 { writeCell(Cell(" ", style: style), x: col, y: y) }
                if w == 2, col < end { col += 1 }
                break
            }
            if col >= 0 {
                writeCell(Cell(String(ch), style: style), x: col, y: y)
                if w == 2 { writeCell(Cell("", style: style), x: col + 1, y: y) }
            } else if col + w > 0 {
                // Left half is off the buffer: the visible right half becomes a space.
                writeCell(Cell(" ", style: style), x: 0, y: y)
            }
            col += w
        }
        return max(0, col - max(x, 0))
    }

    /// The printable ASCII characters as cell symbols, made once.
    private static let asciiSymbols: [String] = (0x20..<0x7F).map { String(UnicodeScalar(UInt8($0))) }

    /// Box drawing, blocks and geometric shapes (U+2500–U+25FF) as cell symbols, made once.
    private static let boxSymbols: [String] = (0x2500...0x25FF).map { String(Character(Unicode.Scalar($0) ?? " ")) }

    @inline(__always)
    private static func symbol(_ scalar: Unicode.Scalar) -> String {
        let v = Int(scalar.value)
        if v >= 0x20, v < 0x7F { return asciiSymbols[v - 0x20] }
        if v >= 0x2500, v <= 0x25FF { return boxSymbols[v - 0x2500] }
        return String(Character(scalar))
    }

    /// Sets one cell, first repairing any wide glyph the write would cut in half.
    private mutating func writeCell(_ cell: Cell, x: Int, y: Int) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        if cell.isContinuation {
            // The glyph at x-1 was just written by the caller; only the right neighbour may break.
            let right = y * width + x + 1
            if x + 1 < width, cells[right].isContinuation {
                cells[right] = Cell(" ", style: cells[right].style)
            }
        } else {
            clearWideOverlap(x: x, y: y)
        }
        cells[y * width + x] = cell
    }

    /// Before overwriting (x, y), repairs a wide glyph that this write would cut in half.
    private mutating func clearWideOverlap(x: Int, y: Int) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        // Read in place: copying a cell out retains and releases its symbol.
        let i = y * width + x
        if cells[i].isContinuation {
            if x > 0 { cells[i - 1] = Cell(" ", style: cells[i - 1].style) }
        } else if x + 1 < width, cells[i + 1].isContinuation {
            cells[i + 1] = Cell(" ", style: cells[i + 1].style)
        }
    }

    /// The buffer's text, one line per row, trailing spaces kept (golden files compare this).
    public var lines: [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width {
                let c = cells[y * width + x]
                if !c.isContinuation { line += c.symbol }
            }
            return line
        }
    }

    /// The buffer's text joined with newlines, trailing spaces of each line removed.
    public var plainText: String {
        lines.map { line in
            var s = Substring(line)
            while s.last == " " { s = s.dropLast() }
            return String(s)
        }.joined(separator: "\n")
    }
}
