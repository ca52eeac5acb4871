/// One terminal cell: a grapheme (possibly wide) and its style.
///
/// A glyph two columns wide occupies its own cell plus a continuation cell whose
/// `symbol` is empty; the diff and backends skip continuation cells.
public struct Cell: Sendable, Hashable {
    /// The grapheme shown; "" marks the right half of a wide glyph.
    public var symbol: String
    /// How the cell looks.
    public var style: Style

    /// Creates a cell.
    public init(_ symbol: String = " ", style: Style = .plain) {
        self.symbol = symbol
        self.style = style
    }

    /// A blank cell in the default style.
    public static let blank = Cell()

    /// True for the right half of a wide glyph.
    public var isContinuation: Bool { symbol.isEmpty }
}
