/// A centred box over whatever is behind it, sized to its content:
/// a title in the top border, lines of text, and an optional hint as the last line.
public struct Dialog: Sendable, Hashable {
    /// Title set into the top border.
    public var title: String
    /// Body lines.
    public var lines: [String]
    /// A last line in dim text (e.g. "esc cancels").
    public var hint: String?
    /// Minimum width of the content (room for a progress bar, say).
    public var minContentWidth: Int

    /// Creates a dialog.
    public init(title: String, lines: [String], hint: String? = nil, minContentWidth: Int = 0) {
        self.title = title
        self.lines = lines
        self.hint = hint
        self.minContentWidth = minContentWidth
    }

    /// The box: content plus border and one column of padding each side, clamped to and centred in `area`.
    public func frame(in area: Rect) -> Rect {
        let widest = (lines + (hint.map { [$0] } ?? [])).map(TextWidth.of).max() ?? 0
        let contentWidth = max(widest, TextWidth.of(title) + 2, minContentWidth)
        let height = lines.count + (hint == nil ? 0 : 1) + 2
        return area.centered(width: contentWidth + 4, height: height)
    }

    /// Where the body lines go inside `frame(in: area)` (callers may draw their own widgets there).
    public func contentArea(in area: Rect) -> Rect {
        let box = frame(in: area)
        guard Block.hasBorder(box) else { return box }
        let inner = box.inset(by: 1)
        return inner.width > 2 ? Rect(x: inner.x + 1, y: inner.y, width: inner.width - 2, height: inner.height) : inner
    }

    /// Clears the box, draws border, title, lines (cut with "…") and hint.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        let box = frame(in: area)
        guard !box.isEmpty else { return }
        let body = theme.style(.dialog)
        buffer.fill(box, with: Cell(" ", style: body))
        Block(title: title, titleRole: .dialogTitle, borderRole: .dialogBorder).render(in: box, into: &buffer, theme: theme)
        let content = contentArea(in: area)
        guard !content.isEmpty else { return }
        var rows: [(String, Style)] = lines.map { ($0, body) }
        if let hint { rows.append((hint, body.adding(.dim))) }
        for (i, (text, style)) in rows.prefix(content.height).enumerated() {
            buffer.put(TextWidth.truncated(text, to: content.width), x: content.x, y: content.y + i,
                       style: style, maxWidth: content.width)
        }
    }
}
