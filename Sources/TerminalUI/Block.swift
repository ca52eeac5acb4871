/// A box-drawing border with optional titles set into its top edge:
/// `┌ Topics ───────── sort: 10s/s ▼ ┐`.
public struct Block: Sendable, Hashable {
    /// Title at the left of the top border.
    public var title: String?
    /// Title at the right of the top border (dropped first when space is short).
    public var rightTitle: String?
    /// Role of the titles.
    public var titleRole: Role
    /// Role of the border lines.
    public var borderRole: Role

    /// Creates a block.
    public init(title: String?, rightTitle: String? = nil, titleRole: Role = .borderTitle, borderRole: Role = .border) {
        self.title = title
        self.rightTitle = rightTitle
        self.titleRole = titleRole
        self.borderRole = borderRole
    }

    /// True when `area` is big enough for a border (at least 4×3).
    public static func hasBorder(_ area: Rect) -> Bool { area.width >= 4 && area.height >= 3 }

    /// The area inside the border; the whole area when it is too small for a border.
    public func inner(_ area: Rect) -> Rect {
        Block.hasBorder(area) ? area.inset(by: 1) : area
    }

    /// Draws the border and titles, clipped to `area`; the inside is left untouched.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard Block.hasBorder(area) else { return }
        let border = theme.style(borderRole)
        let titleStyle = theme.style(titleRole)
        let (x0, y0, x1, y1) = (area.x, area.y, area.maxX - 1, area.maxY - 1)
        let horizontal = String(repeating: "─", count: area.width - 2)
        buffer.put("┌" + horizontal + "┐", x: x0, y: y0, style: border)
        buffer.put("└" + horizontal + "┘", x: x0, y: y1, style: border)
        for y in (y0 + 1)..<y1 {
            buffer.put("│", x: x0, y: y, style: border)
            buffer.put("│", x: x1, y: y, style: border)
        }
        Block.drawTitles(left: title, right: rightTitle, x: x0 + 1, y: y0, width: area.width - 2,
                         style: titleStyle, into: &buffer)
    }

    /// Sets " left " and " right " into a horizontal border line of `width` columns at (x, y),
    /// keeping at least one border column between them; the right title goes first when short.
    static func drawTitles(left: String?, right: String?, x: Int, y: Int, width: Int,
                           style: Style, into buffer: inout ScreenBuffer) {
        // Each title takes its width plus a space on both sides; the spaces keep the border style.
        let leftText = left.map(TextWidth.sanitized).flatMap { $0.isEmpty ? nil : $0 }
        var rightText = right.map(TextWidth.sanitized).flatMap { $0.isEmpty ? nil : $0 }
        let leftWidth = leftText.map { TextWidth.of($0) + 2 } ?? 0
        if let r = rightText, leftWidth + TextWidth.of(r) + 2 + 1 > width { rightText = nil }
        if let l = leftText, width >= 3 {
            let shown = TextWidth.truncated(l, to: width - 2)
            buffer.put(" ", x: x, y: y, style: buffer[x, y].style)
            let w = buffer.put(shown, x: x + 1, y: y, style: style)
            buffer.put(" ", x: x + 1 + w, y: y, style: buffer[x + 1 + w, y].style)
        }
        if let r = rightText {
            let w = TextWidth.of(r)
            let start = x + width - w - 1
            buffer.put(" ", x: start - 1, y: y, style: buffer[start - 1, y].style)
            buffer.put(r, x: start, y: y, style: style)
            buffer.put(" ", x: start + w, y: y, style: buffer[start + w, y].style)
        }
    }
}
