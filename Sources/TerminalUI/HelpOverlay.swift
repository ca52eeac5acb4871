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

    /// Creates a help overlay.
    public init(title: String, sections: [HelpSection]) {
        self.title = title
        self.sections = sections
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
        let truncatedRows = l.height - 2 > content.height
        var x = content.x
        for column in l.columns {
            let columnWidth = min(column.map(\.width).max() ?? 0, content.maxX - x)
            guard columnWidth > 0 else { break }
            var y = content.y
            func line(_ draw: (inout ScreenBuffer) -> Void) -> Bool {
                guard y < content.maxY else { return false }
                if truncatedRows, y == content.maxY - 1 {
                    buffer.put("…", x: x, y: y, style: textStyle)
                    y += 1
                    return false
                }
                draw(&buffer)
                y += 1
                return true
            }
            sections: for (n, section) in column.enumerated() {
                if n > 0 { guard line({ _ in }) else { break sections } }
                let headingY = y
                guard line({ $0.put(TextWidth.truncated(section.title, to: columnWidth), x: x, y: headingY,
                                    style: headingStyle, maxWidth: columnWidth) }) else { break sections }
                let keyWidth = min(section.keyWidth, columnWidth)
                for entry in section.entries {
                    let rowY = y
                    let ok = line { buf in
                        buf.put(TextWidth.padded(entry.key, to: keyWidth), x: x, y: rowY, style: keyStyle, maxWidth: keyWidth)
                        let textX = x + keyWidth + 2
                        let room = x + columnWidth - textX
                        if room > 0 {
                            buf.put(TextWidth.truncated(entry.text, to: room), x: textX, y: rowY, style: textStyle, maxWidth: room)
                        }
                    }
                    guard ok else { break sections }
                }
            }
            x += columnWidth + HelpOverlay.gap
            if x >= content.maxX { break }
        }
    }
}
