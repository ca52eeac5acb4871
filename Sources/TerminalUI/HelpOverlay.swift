/// One key binding in the help overlay.
public struct HelpEntry: Sendable, Hashable {
    /// The key(s), e.g. "j/k".
    public var key: String
    /// What it does.
    public var text: String

    /// Creates an entry.
    public init(key: String, text: String) {
        self.key = key
        self.text = text
    }
}

/// A titled group of key bindings.
public struct HelpSection: Sendable, Hashable {
    /// Section heading.
    public var title: String
    /// Bindings, in display order.
    public var entries: [HelpEntry]

    /// Creates a section.
    public init(title: String, entries: [HelpEntry]) {
        self.title = title
        self.entries = entries
    }

    /// Creates a section from (key, text) pairs.
    public init(title: String, entries: [(key: String, text: String)]) {
        self.init(title: title, entries: entries.map { HelpEntry(key: $0.key, text: $0.text) })
    }

    /// Width of the key column.
    var keyWidth: Int { entries.map { TextWidth.of($0.key) }.max() ?? 0 }
    /// Columns the section needs: keys, two spaces, texts (or the title, if wider).
    var width: Int {
        let textWidth = entries.map { TextWidth.of($0.text) }.max() ?? 0
        return max(TextWidth.of(title), keyWidth + 2 + textWidth)
    }
    /// Rows: the heading plus one per entry.
    var height: Int { 1 + entries.count }
}

/// A centred box listing key bindings: sections side by side when the area is wide
/// enough, stacked when narrow, cut (with "…") when the area is tiny.
public struct HelpOverlay: Sendable, Hashable {
    /// Title in the top border.
    public var title: String
    /// Sections, in reading order.
    public var sections: [HelpSection]
    /// Rows scrolled off the top of every column (clamped when drawn).
    public var scroll: Int

    /// Creates a help overlay.
    public init(title: String, sections: [HelpSection], scroll: Int = 0) {
        self.title = title
        self.sections = sections
        self.scroll = scroll
    }

    /// One drawn row of a column.
    enum Row: Hashable {
        case blank
        case heading(String)
        case entry(HelpEntry, keyWidth: Int)
    }

    /// A column's rows: each section's heading and entries, a blank row between sections.
    static func rows(_ column: [HelpSection]) -> [Row] {
        var rows: [Row] = []
        for (n, section) in column.enumerated() {
            if n > 0 { rows.append(.blank) }
            rows.append(.heading(section.title))
            rows += section.entries.map { .entry($0, keyWidth: section.keyWidth) }
        }
        return rows
    }

    /// How far the overlay can scroll in `area`: 0 when everything fits.
    public func maxScroll(in area: Rect) -> Int {
        let l = layout(in: area)
        let visible = max(0, min(l.height, area.height) - 2)
        let tallest = l.columns.map { Self.rows($0).count }.max() ?? 0
        return max(0, tallest - visible)
    }

    /// Columns between section columns.
    static let gap = 3

    /// The sections split into `count` columns, in order, keeping columns about equally tall.
    static func arrange(_ sections: [HelpSection], columns count: Int) -> [[HelpSection]] {
        guard count > 1, sections.count > 1 else { return [sections] }
        let totalHeight = sections.reduce(0) { $0 + $1.height } + sections.count - 1
        let tallest = sections.map(\.height).max() ?? 0
        let target = max(tallest, (totalHeight + count - 1) / count)
        var result: [[HelpSection]] = [[]]
        var height = 0
        for section in sections {
            let needed = height == 0 ? section.height : height + 1 + section.height
            if needed > target, height > 0, result.count < count {
                result.append([section])
                height = section.height
            } else {
                result[result.count - 1].append(section)
                height = needed
            }
        }
        return result
    }

    /// The chosen layout for `area`: columns of sections and the box size they need.
    func layout(in area: Rect) -> (columns: [[HelpSection]], width: Int, height: Int) {
        var best: (columns: [[HelpSection]], width: Int, height: Int)?
        for count in stride(from: max(1, sections.count), through: 1, by: -1) {
            let columns = HelpOverlay.arrange(sections, columns: count)
            let width = columns.map { $0.map(\.width).max() ?? 0 }.reduce(0, +)
                + HelpOverlay.gap * max(0, columns.count - 1)
            let height = columns.map { col in col.reduce(0) { $0 + $1.height } + max(0, col.count - 1) }.max() ?? 0
            let candidate = (columns, max(width, TextWidth.of(title) + 2) + 4, height + 2)
            best = candidate
            if candidate.1 <= area.width { break }
        }
        return best ?? ([], 4, 2)
    }

    /// The box, centred in and clamped to `area`.
    public func frame(in area: Rect) -> Rect {
        let l = layout(in: area)
        return area.centered(width: l.width, height: l.height)
    }

    /// Clears the box and draws the sections.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        let l = layout(in: area)
        let box = area.centered(width: l.width, height: l.height)
        guard !box.isEmpty else { return }
        let body = theme.style(.dialog)
        buffer.fill(box, with: Cell(" ", style: body))
        let block = Block(title: title, titleRole: .dialogTitle, borderRole: .dialogBorder)
        block.render(in: box, into: &buffer, theme: theme)
        var content = block.inner(box)
        if Block.hasBorder(box), content.width > 2 {
            content = Rect(x: content.x + 1, y: content.y, width: content.width - 2, height: content.height)
        }
        guard !content.isEmpty else { return }
        let keyStyle = body.patched(with: theme.style(.helpKey))
        let textStyle = body.patched(with: theme.style(.helpText))
        let headingStyle = body.patched(with: theme.style(.dialogTitle))
        let scroll = min(max(0, self.scroll), maxScroll(in: area))
        let scrollable = maxScroll(in: area) > 0
        if scrollable {
            // Where the reader is, as every list shows it: first–last of all rows, in the bottom border.
            let tallest = l.columns.map { Self.rows($0).count }.max() ?? 0
            let position = " \(scroll + 1)–\(min(tallest, scroll + content.height))/\(tallest) · j k scroll "
            let width = TextWidth.of(position)
            if box.width > width + 4 {
                buffer.put(position, x: box.maxX - width - 2, y: box.maxY - 1, style: body.patched(with: theme.style(.dialogTitle)))
            }
        }
        var x = content.x
        for column in l.columns {
            let columnWidth = min(column.map(\.width).max() ?? 0, content.maxX - x)
            guard columnWidth > 0 else { break }
            let rows = Self.rows(column)
            for (i, row) in rows.dropFirst(scroll).prefix(content.height).enumerated() {
                let y = content.y + i
                // A cut at either end says so: "…" where rows are hidden above or below.
                if (i == 0 && scroll > 0) || (i == content.height - 1 && scroll + content.height < rows.count) {
                    buffer.put("…", x: x, y: y, style: textStyle)
                    continue
                }
                switch row {
                case .blank:
                    break
                case .heading(let title):
                    buffer.put(TextWidth.truncated(title, to: columnWidth), x: x, y: y, style: headingStyle, maxWidth: columnWidth)
                case .entry(let entry, let sectionKeyWidth):
                    let keyWidth = min(sectionKeyWidth, columnWidth)
                    buffer.put(TextWidth.padded(entry.key, to: keyWidth), x: x, y: y, style: keyStyle, maxWidth: keyWidth)
                    let textX = x + keyWidth + 2
                    let room = x + columnWidth - textX
                    if room > 0 {
                        buffer.put(TextWidth.truncated(entry.text, to: room), x: textX, y: y, style: textStyle, maxWidth: room)
                    }
                }
            }
            x += columnWidth + HelpOverlay.gap
            if x >= content.maxX { break }
        }
    }
}
