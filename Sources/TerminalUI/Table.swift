/// Horizontal alignment of text in a column.
public enum Alignment: Sendable, Hashable {
    /// Flush left.
    case left
    /// Flush right (numbers).
    case right
    /// Centred.
    case center
}

/// How wide a table column is.
public enum ColumnWidth: Sendable, Hashable {
    /// Exactly this many columns.
    case fixed(Int)
    /// At least `min` columns, plus a share of the spare width proportional to `weight`.
    case flexible(min: Int, weight: Int)
}

/// One column of a `Table`.
public struct TableColumn: Sendable, Hashable {
    /// Header text.
    public var title: String
    /// Width rule.
    public var width: ColumnWidth
    /// Alignment of the header and the cells.
    public var alignment: Alignment
    /// Higher is kept longer: when columns do not fit, the lowest priority ones are hidden first.
    public var priority: Int

    /// Creates a column.
    public init(_ title: String, width: ColumnWidth, alignment: Alignment = .left, priority: Int = 0) {
        self.title = title
        self.width = width
        self.alignment = alignment
        self.priority = priority
    }
}

/// One cell of a table row: text and an optional role overriding the row's.
public struct TableCell: Sendable, Hashable, ExpressibleByStringLiteral {
    /// Text (untrusted text is fine: it is escaped when drawn).
    public var text: String
    /// Role overriding the row's role.
    public var role: Role?
    /// Cut in the middle rather than at the end when too wide: names whose ends tell them apart, and
    /// names followed by a badge (`orders.DLT  DLQ`) that must stay in sight.
    public var cutsInTheMiddle: Bool
    /// Drawn after the text and never cut while the text can give way (a `  DLQ` badge).
    public var badge: String

    /// Creates a cell.
    public init(_ text: String, role: Role? = nil, cutsInTheMiddle: Bool = false, badge: String = "") {
        self.text = text
        self.role = role
        self.cutsInTheMiddle = cutsInTheMiddle
        self.badge = badge
    }

    /// The text as drawn in `width` columns, before alignment: the badge kept whole while at least four
    /// columns of text remain.
    public func fitted(to width: Int) -> String {
        let badgeWidth = TextWidth.of(badge)
        let room = badgeWidth > 0 && width - badgeWidth >= 4 ? width - badgeWidth : width
        let cut = TextWidth.of(text) + badgeWidth <= width ? text
            : (cutsInTheMiddle ? TextWidth.middleTruncated(text, to: room) : TextWidth.truncated(text, to: room))
        return cut + badge  // too narrow for both: alignment cuts the end
    }

    /// Creates a cell from a literal.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

/// The content of one table row.
public struct TableRowContent: Sendable, Hashable {
    /// Cells, one per column (missing cells are blank, extra ones ignored).
    public var cells: [TableCell]
    /// Role for the whole row (default `.tableRow`).
    public var role: Role?
    /// Shown with a "●" in the mark gutter.
    public var isMarked: Bool

    /// Creates a row.
    public init(cells: [TableCell], role: Role? = nil, isMarked: Bool = false) {
        self.cells = cells
        self.role = role
        self.isMarked = isMarked
    }
}

/// A virtualised table: a header line, then rows fetched on demand for the visible window only.
public struct Table {
    /// Columns, left to right.
    public var columns: [TableColumn]
    /// Number of rows in the whole data set.
    public var rowCount: Int
    /// The highlighted row (drawn in `.tableSelected` across the full width).
    public var selectedRow: Int?
    /// The first visible row.
    public var scrollOffset: Int
    /// The sorted column, marked ▼ / ▲ after its title in `.tableSort`.
    public var sortColumn: Int?
    /// Whether the sort is descending (▼) or ascending (▲).
    public var sortDescending: Bool
    /// Shows a 2-column gutter with "● " for marked rows.
    public var showMarkColumn: Bool
    /// The content of row `i`; called only for visible rows.
    public var row: (Int) -> TableRowContent

    /// Creates a table with no selection, no sort, no mark gutter, scrolled to the top.
    public init(columns: [TableColumn], rowCount: Int, row: @escaping (Int) -> TableRowContent) {
        self.columns = columns
        self.rowCount = max(0, rowCount)
        self.selectedRow = nil
        self.scrollOffset = 0
        self.sortColumn = nil
        self.sortDescending = true
        self.showMarkColumn = false
        self.row = row
    }

    /// Marks the sort on the column titled `title` (no marker when no column has that title, e.g. it was
    /// left out): screens name the column, so a column added or removed never moves the marker.
    public mutating func sort(byColumnTitled title: String, descending: Bool) {
        sortColumn = columns.firstIndex { $0.title == title }
        sortDescending = descending
    }

    /// Rows that fit under the header in an area of `height` rows.
    public static func visibleRows(height: Int) -> Int { max(0, height - 1) }

    /// Draws header and visible rows, clipped to `area`.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        let gutter = showMarkColumn && area.width > 2 ? 2 : 0
        // The sorted column is at least as wide as its title and the arrow: a header never reads `GROU…▲`.
        var sized = columns
        if let s = sortColumn, s < sized.count, case .fixed(let w) = sized[s].width {
            sized[s].width = .fixed(max(w, TextWidth.of(sized[s].title) + 1))
        }
        let widths = Table.columnWidths(sized, totalWidth: area.width - gutter)

        // Header.
        let header = theme.style(.tableHeader)
        buffer.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), with: Cell(" ", style: header))
        var x = area.x + gutter
        for (i, column) in columns.enumerated() where widths[i] > 0 {
            let w = widths[i]
            if i == sortColumn, w >= 2 {
                let arrow = sortDescending ? "▼" : "▲"
                let text = Table.aligned(column.title, width: w - 1, alignment: column.alignment == .center ? .left : column.alignment)
                buffer.put(text, x: x, y: area.y, style: header, maxWidth: w - 1)
                if column.alignment == .right {
                    buffer.put(arrow, x: x + w - 1, y: area.y, style: theme.style(.tableSort))
                } else {
                    let titleWidth = min(TextWidth.of(column.title), w - 1)
                    buffer.put(arrow, x: x + titleWidth, y: area.y, style: theme.style(.tableSort))
                }
            } else {
                buffer.put(Table.aligned(column.title, width: w, alignment: column.alignment),
                           x: x, y: area.y, style: header, maxWidth: w)
            }
            x += w + 1
        }

        // Rows.
        let visible = Table.visibleRows(height: area.height)
        guard visible > 0, rowCount > 0 else { return }
        let offset = min(max(0, scrollOffset), max(0, rowCount - visible))
        let last = min(rowCount, offset + visible)
        for (line, index) in (offset..<last).enumerated() {
            let y = area.y + 1 + line
            let content = row(index)
            let isSelected = index == selectedRow
            let selected = theme.style(.tableSelected)
            func style(_ role: Role) -> Style {
                isSelected ? theme.style(role).patched(with: selected) : theme.style(role)
            }
            let rowRole = content.role ?? .tableRow
            buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), with: Cell(" ", style: style(rowRole)))
            if gutter > 0, content.isMarked {
                buffer.put("●", x: area.x, y: y, style: style(.tableMarked))
            }
            var x = area.x + gutter
            for (i, column) in columns.enumerated() where widths[i] > 0 {
                let w = widths[i]
                if i < content.cells.count {
                    let cell = content.cells[i]
                    let text = cell.fitted(to: w)
                    buffer.put(Table.aligned(text, width: w, alignment: column.alignment),
                               x: x, y: y, style: style(cell.role ?? rowRole), maxWidth: w)
                }
                x += w + 1
            }
        }
    }

    /// `text` cut with "…" or padded to exactly `width` columns.
    static func aligned(_ text: String, width: Int, alignment: Alignment) -> String {
        switch alignment {
        case .left: return TextWidth.padded(text, to: width)
        case .right: return TextWidth.padded(text, to: width, alignRight: true)
        case .center:
            let cut = TextWidth.truncated(text, to: width)
            let gap = max(0, width - TextWidth.of(cut))
            return String(repeating: " ", count: gap / 2) + cut + String(repeating: " ", count: gap - gap / 2)
        }
    }

    /// Column widths for `totalWidth` columns, one space between shown columns; 0 = hidden.
    ///
    /// Fixed columns get their width and flexible ones their minimum; if that does not fit,
    /// the lowest-priority column (rightmost on ties) is hidden, repeatedly. Spare width is
    /// shared by the flexible columns in proportion to their weights (remainders go left
    /// to right). A single remaining column that is still too wide is narrowed to fit.
    public static func columnWidths(_ columns: [TableColumn], totalWidth: Int) -> [Int] {
        var widths = Array(repeating: 0, count: columns.count)
        guard totalWidth > 0, !columns.isEmpty else { return widths }
        func base(_ c: TableColumn) -> Int {
            switch c.width {
            case .fixed(let w): return max(0, w)
            case .flexible(let minimum, _): return max(0, minimum)
            }
        }
        var shown = Array(columns.indices)
        func required() -> Int { shown.reduce(0) { $0 + base(columns[$1]) } + max(0, shown.count - 1) }
        while shown.count > 1, required() > totalWidth {
            // Hide the lowest priority; among equals the rightmost.
            var victim = shown[0]
            for i in shown where columns[i].priority <= columns[victim].priority { victim = i }
            shown.removeAll { $0 == victim }
        }
        for i in shown { widths[i] = base(columns[i]) }
        let spare = totalWidth - required()
        if spare < 0 {
            // Only one column is left and it is too wide: narrow it.
            if let only = shown.first { widths[only] = totalWidth }
            return widths
        }
        let flexible = shown.compactMap { i -> (Int, Int)? in
            if case .flexible(_, let weight) = columns[i].width, weight > 0 { return (i, weight) }
            return nil
        }
        let totalWeight = flexible.reduce(0) { $0 + $1.1 }
        guard totalWeight > 0, spare > 0 else { return widths }
        var given = 0
        for (i, weight) in flexible {
            let share = spare * weight / totalWeight
            widths[i] += share
            given += share
        }
        var k = 0
        while given < spare {
            widths[flexible[k % flexible.count].0] += 1
            given += 1
            k += 1
        }
        return widths
    }

    /// The scroll offset that keeps `selected` visible, moving as little as possible from
    /// `current`, clamped so the window never extends past the last row.
    public static func scrollOffset(selected: Int, current: Int, visibleRows: Int, rowCount: Int) -> Int {
        guard rowCount > 0, visibleRows > 0 else { return 0 }
        let maxOffset = max(0, rowCount - visibleRows)
        let selected = min(max(0, selected), rowCount - 1)
        var offset = min(max(0, current), maxOffset)
        if selected < offset { offset = selected }
        if selected >= offset + visibleRows { offset = selected - visibleRows + 1 }
        return min(max(0, offset), maxOffset)
    }
}
