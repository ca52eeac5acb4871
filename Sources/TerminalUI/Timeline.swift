/// A waterfall on one time axis (Jaeger's trace view, compressed): a label column, an axis line with
/// tick labels, then one line per row with bars (`├────┤`) for intervals and glyph markers for instants,
/// each marker followed by its label where there is room before the next marker.
public struct Timeline: Sendable, Hashable {
    /// An interval on a row.
    public struct Bar: Sendable, Hashable {
        /// Start, seconds from the axis origin.
        public var start: Double
        /// End, seconds from the axis origin.
        public var end: Double
        /// Role of the bar.
        public var role: Role
        /// Drawn in the selected style.
        public var isSelected: Bool

        /// Creates a bar.
        public init(start: Double, end: Double, role: Role, isSelected: Bool = false) {
            self.start = start
            self.end = end
            self.role = role
            self.isSelected = isSelected
        }
    }

    /// An instant on a row.
    public struct Marker: Sendable, Hashable {
        /// When, seconds from the axis origin.
        public var at: Double
        /// One-column glyph, e.g. `◆`.
        public var glyph: String
        /// Text after the glyph when there is room (untrusted text is fine: it is escaped when drawn).
        public var label: String
        /// Role of glyph and label.
        public var role: Role
        /// Drawn in the selected style.
        public var isSelected: Bool

        /// Creates a marker.
        public init(at: Double, glyph: String, label: String, role: Role, isSelected: Bool = false) {
            self.at = at
            self.glyph = glyph
            self.label = label
            self.role = role
            self.isSelected = isSelected
        }
    }

    /// One line of the waterfall.
    public struct Row: Sendable, Hashable {
        /// Row title (service or step).
        public var title: String
        /// Intervals, drawn first.
        public var bars: [Bar]
        /// Instants, drawn over the bars in time order.
        public var markers: [Marker]

        /// Creates a row.
        public init(title: String, bars: [Bar] = [], markers: [Marker] = []) {
            self.title = title
            self.bars = bars
            self.markers = markers
        }
    }

    /// Rows top to bottom.
    public var rows: [Row]
    /// Seconds the axis spans (at least a millisecond is shown).
    public var span: Double
    /// Width of the title column (0 picks the longest title, within a fifth of the width).
    public var titleWidth: Int

    /// Creates a timeline.
    public init(rows: [Row], span: Double, titleWidth: Int = 0) {
        self.rows = rows
        self.span = span
        self.titleWidth = titleWidth
    }

    /// The column of time `t` in a plot of `width` columns.
    public static func column(_ t: Double, span: Double, width: Int) -> Int {
        guard width > 1, span > 0, t.isFinite else { return 0 }
        let x = Int((t / span * Double(width - 1)).rounded())
        return max(0, min(width - 1, x))
    }

    /// A tick step of 1, 2 or 5 × 10ⁿ seconds giving about `count` ticks over `span`.
    public static func tickStep(span: Double, count: Int) -> Double {
        guard span > 0, count > 0 else { return 1 }
        let raw = span / Double(count)
        var magnitude = 1e-3
        while magnitude * 10 <= raw { magnitude *= 10 }
        for m in [1.0, 2, 5, 10] where magnitude * m >= raw { return magnitude * m }
        return magnitude * 10
    }

    /// `0s`, `250ms`, `1.5s`, `2m`.
    public static func tickLabel(_ seconds: Double, step: Double) -> String {
        if seconds == 0 { return "0s" }
        if step < 1 && seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 {
            if step >= 1 { return "\(Int(seconds.rounded()))s" }
            let tenths = Int((seconds * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        if seconds < 3600 { return seconds.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(seconds / 60))m" : "\(Int(seconds / 60))m\(Int(seconds.truncatingRemainder(dividingBy: 60)))s" }
        return "\(Int(seconds / 3600))h"
    }

    /// Draws the axis line and as many rows as fit into `area`.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        let longest = rows.map { TextWidth.of($0.title) }.max() ?? 0
        let labelWidth = titleWidth > 0 ? min(titleWidth, area.width / 2) : min(longest, max(6, area.width / 5))
        let plotX = area.x + labelWidth + 1
        let plotWidth = area.maxX - plotX
        guard plotWidth >= 4 else { return }
        let span = max(self.span, 0.001)
        let dim = theme.style(.textDim)
        let selected = theme.style(.tableSelected)

        // Axis: tick labels about every 12 columns, never overlapping.
        let step = Timeline.tickStep(span: span, count: max(1, plotWidth / 12))
        var nextFree = plotX
        var tick = 0.0
        while tick <= span + step / 1000 {
            let x = plotX + Timeline.column(tick, span: span, width: plotWidth)
            let text = Timeline.tickLabel(tick, step: step)
            if x >= nextFree, x + TextWidth.of(text) <= area.maxX {
                buffer.put(text, x: x, y: area.y, style: dim)
                nextFree = x + TextWidth.of(text) + 2
            }
            tick += step
        }

        for (i, row) in rows.enumerated() {
            let y = area.y + 1 + i
            guard y < area.maxY else { break }
            buffer.put(TextWidth.padded(row.title, to: labelWidth), x: area.x, y: y, style: theme.style(.text), maxWidth: labelWidth)
            for bar in row.bars {
                let a = Timeline.column(bar.start, span: span, width: plotWidth)
                let b = max(a, Timeline.column(bar.end, span: span, width: plotWidth))
                let text = b - a >= 1 ? "├" + String(repeating: "─", count: max(0, b - a - 1)) + "┤" : "│"
                let style = bar.isSelected ? theme.style(bar.role).patched(with: selected) : theme.style(bar.role)
                buffer.put(text, x: plotX + a, y: y, style: style, maxWidth: plotWidth - a)
            }
            let markers = row.markers.sorted { $0.at < $1.at }
            let columns = markers.map { Timeline.column($0.at, span: span, width: plotWidth) }
            var usedUntil = -1  // last plot column taken by a glyph or label
            for (k, m) in markers.enumerated() {
                let x = columns[k]
                let style = m.isSelected ? theme.style(m.role).patched(with: selected) : theme.style(m.role)
                buffer.put(m.glyph, x: plotX + x, y: y, style: style, maxWidth: 1)
                guard !m.label.isEmpty else { usedUntil = max(usedUntil, x); continue }
                // The label runs right up to one column before the next marker; at the right edge it goes left
                // of its glyph when the space since the previous label allows.
                let limit = columns[(k + 1)...].first { $0 > x }.map { $0 - 1 } ?? plotWidth
                let room = limit - (x + 2)
                let width = TextWidth.of(m.label)
                let leftRoom = x - 2 - (usedUntil + 1)
                if room < width, k == markers.count - 1 || columns[(k + 1)...].allSatisfy({ $0 == x }), leftRoom >= min(width, 3) {
                    let text = TextWidth.truncated(m.label, to: min(width, leftRoom))
                    buffer.put(text, x: plotX + x - 1 - TextWidth.of(text), y: y, style: theme.style(m.role))
                    usedUntil = x
                } else if room >= 3 {
                    let text = TextWidth.truncated(m.label, to: room)
                    buffer.put(text, x: plotX + x + 2, y: y, style: theme.style(m.role), maxWidth: room)
                    usedUntil = x + 1 + TextWidth.of(text)
                } else {
                    usedUntil = max(usedUntil, x)
                }
            }
        }
    }
}
