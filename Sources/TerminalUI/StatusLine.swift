/// A piece of text in one role.
public struct Span: Sendable, Hashable {
    /// Text (escaped when drawn).
    public var text: String
    /// Role.
    public var role: Role

    /// Creates a span.
    public init(_ text: String, role: Role) {
        self.text = text
        self.role = role
    }

    /// Creates a span.
    public init(text: String, role: Role) {
        self.init(text, role: role)
    }
}

/// One row: left spans from the left, right spans flush right, the rest in the fill role.
/// When the row is too narrow the right spans go first (rightmost first), then the left
/// ones are cut with "…".
public struct StatusLine: Sendable, Hashable {
    /// Spans from the left edge.
    public var left: [Span]
    /// Spans ending at the right edge.
    public var right: [Span]
    /// Role of the whole row; spans are laid over it.
    public var fill: Role

    /// Creates a status line.
    public init(left: [Span], right: [Span] = [], fill: Role = .statusLine) {
        self.left = left
        self.right = right
        self.fill = fill
    }

    /// Draws into the first row of `area`.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        let base = theme.style(fill)
        let y = area.y
        buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), with: Cell(" ", style: base))
        let leftWidth = left.reduce(0) { $0 + TextWidth.of($1.text) }
        var right = self.right
        // Keep one blank column between the groups when both are shown.
        while !right.isEmpty, leftWidth + right.reduce(0, { $0 + TextWidth.of($1.text) }) + (leftWidth > 0 ? 1 : 0) > area.width {
            right.removeLast()
        }
        let rightWidth = right.reduce(0) { $0 + TextWidth.of($1.text) }
        var x = area.maxX - rightWidth
        for span in right {
            x += buffer.put(span.text, x: x, y: y, style: base.patched(with: theme.style(span.role)))
        }
        x = area.x
        for (i, span) in left.enumerated() {
            let room = area.maxX - x
            guard room > 0 else { break }
            let w = TextWidth.of(span.text)
            let more = left[(i + 1)...].contains { TextWidth.of($0.text) > 0 }
            // Cut this span when it does not fit, or when it fills the row and more would follow.
            let cut = w > room || (w == room && more)
            let text = cut ? TextWidth.truncated(span.text, to: room) : span.text
            x += buffer.put(text, x: x, y: y, style: base.patched(with: theme.style(span.role)), maxWidth: room)
            if cut { break }
        }
    }
}
