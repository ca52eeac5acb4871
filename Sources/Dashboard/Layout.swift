import TerminalUI

/// Where the header, content and status line go for a terminal size.
/// Below 40×8 the content loses its border so that data keeps the space.
public struct Layout: Sendable, Hashable {
    /// Top row: source, connection, counts, clock.
    public let header: Rect
    /// The view's area (border included).
    public let content: Rect
    /// Bottom row: key hints, prompt or message.
    public let status: Rect
    /// Whether the content has a border.
    public let bordered: Bool

    /// Lays out a screen of the given size.
    public init(size: Size) {
        let full = Rect(x: 0, y: 0, width: size.width, height: size.height)
        let (header, rest) = full.splitTop(size.height >= 3 ? 1 : 0)
        let (content, status) = rest.splitBottom(size.height >= 2 ? 1 : 0)
        self.header = header
        self.content = content
        self.status = status
        self.bordered = size.width >= 40 && size.height >= 8
    }

    /// The same screen with the view drawn in `content` only (one side of a split pane).
    public func with(content: Rect) -> Layout {
        Layout(header: header, content: content, status: status)
    }

    private init(header: Rect, content: Rect, status: Rect) {
        self.header = header
        self.content = content
        self.status = status
        self.bordered = content.width >= 40 && content.height >= 6
    }

    /// The content's inside (within the border when there is one).
    public var inner: Rect { bordered ? content.inset(by: 1) : content }

    /// Where a table goes: the inside, with a column of air on each side when bordered.
    public var tableArea: Rect {
        let i = inner
        return bordered ? Rect(x: i.x + 1, y: i.y, width: i.width - 2, height: i.height) : i
    }

    /// Table rows below the table's header line.
    public var tableBodyRows: Int { max(0, inner.height - 1) }

    /// Sets where the cursor is into the bottom border, as k9s does: ` 23/1,204 ` (row `index` of
    /// `count`, from 0). Nothing without a border or without rows.
    public func markPosition(_ index: Int, of count: Int, into buffer: inout ScreenBuffer, theme: Theme) {
        guard bordered, count > 0 else { return }
        let text = " \(NumberFormat.grouped(min(count, max(0, index) + 1)))/\(NumberFormat.grouped(count)) "
        let width = TextWidth.of(text)
        guard content.width >= width + 4 else { return }
        buffer.put(text, x: content.maxX - width - 2, y: content.maxY - 1, style: theme.style(.borderTitle))
    }

    /// Draws the view's border (when there is room for one) and returns where its table goes.
    public func frame(_ block: Block, into buffer: inout ScreenBuffer, theme: Theme) -> Rect {
        guard bordered else { return content }
        block.render(in: content, into: &buffer, theme: theme)
        return tableArea
    }
}
