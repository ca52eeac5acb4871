/// A one-row chart of recent values drawn with the block elements "▁▂▃▄▅▆▇█".
public struct Sparkline: Sendable, Hashable {
    /// The values, oldest first; only the last `width` are shown.
    public var values: [Double]
    /// The value drawn as a full block; the largest shown value when nil.
    public var maxValue: Double?
    /// Role of the glyphs.
    public var role: Role

    /// Creates a sparkline.
    public init(values: [Double], maxValue: Double? = nil, role: Role = .sparkline) {
        self.values = values
        self.maxValue = maxValue
        self.role = role
    }

    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The last `width` values as exactly `width` columns, left-padded with spaces when
    /// there are fewer values. Values are scaled to `maxValue` (or the largest shown value):
    /// any positive value gets at least "▁", the maximum "█". A zero (or negative, or NaN)
    /// shows as " " when some value is positive, and as "▁" when everything is zero, so a
    /// flat-lined series still shows a baseline.
    public static func string(_ values: [Double], width: Int, maxValue: Double? = nil) -> String {
        guard width > 0 else { return "" }
        let shown = values.suffix(width).map { $0.isNaN ? 0 : $0 }
        let largest = shown.max() ?? 0
        let scale = maxValue.flatMap { $0.isFinite ? $0 : nil } ?? largest
        let anyPositive = shown.contains { $0 > 0 }
        var out = String(repeating: " ", count: width - shown.count)
        for v in shown {
            if v <= 0 {
                out.append(anyPositive ? " " : "▁")
            } else if scale <= 0 || !v.isFinite || v >= scale {
                out.append("█")
            } else {
                let level = Int((v / scale * 8).rounded(.up)) - 1
                out.append(levels[min(7, max(0, level))])
            }
        }
        return out
    }

    /// Draws the sparkline in the first row of `area`.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        buffer.put(Sparkline.string(values, width: area.width, maxValue: maxValue),
                   x: area.x, y: area.y, style: theme.style(role), maxWidth: area.width)
    }
}

/// A horizontal bar with eighth-cell precision ("███▍    ").
public struct Bar: Sendable, Hashable {
    /// How full, 0...1 (clamped; NaN counts as 0).
    public var fraction: Double

    /// Creates a bar.
    public init(fraction: Double) { self.fraction = fraction }

    static let partials: [String] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// Exactly `width` columns: full blocks, one partial block for the remaining eighths,
    /// then spaces. `fraction` is clamped to 0...1 and NaN is 0.
    public static func string(fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let f = fraction.isNaN ? 0 : min(1, max(0, fraction))
        let eighths = Int((f * Double(width) * 8).rounded())
        let full = min(width, eighths / 8)
        let rest = eighths % 8
        var out = String(repeating: "█", count: full)
        var used = full
        if rest > 0, used < width {
            out += partials[rest]
            used += 1
        }
        return out + String(repeating: " ", count: width - used)
    }

    /// Draws the bar in the first row of `area`: the filled part in `.barFilled`, the rest in `.barEmpty`.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        buffer.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), with: Cell(" ", style: theme.style(.barEmpty)))
        let text = Bar.string(fraction: fraction, width: area.width)
        let filled = String(text.prefix { $0 != " " })
        buffer.put(filled, x: area.x, y: area.y, style: theme.style(.barFilled), maxWidth: area.width)
    }
}

/// A one-row progress bar with a label: `████████░░░░  1/2  4.0 msg/s`.
public struct ProgressBar: Sendable, Hashable {
    /// How far, 0...1 (clamped; NaN counts as 0).
    public var fraction: Double
    /// Text after the bar.
    public var label: String
    /// Role of the label and the gap (`.dialog` inside a dialog).
    public var labelRole: Role

    /// Creates a progress bar.
    public init(fraction: Double, label: String, labelRole: Role = .text) {
        self.fraction = fraction
        self.label = label
        self.labelRole = labelRole
    }

    /// The bar text (`done` full blocks and `░` for the rest) for `width` columns.
    public static func barString(fraction: Double, width: Int) -> (done: String, todo: String) {
        guard width > 0 else { return ("", "") }
        let f = fraction.isNaN ? 0 : min(1, max(0, fraction))
        let done = min(width, Int((f * Double(width)).rounded(.down)))
        return (String(repeating: "█", count: done), String(repeating: "░", count: width - done))
    }

    /// Draws bar, two spaces and label in the first row of `area`. The bar takes what the
    /// label leaves (at least a few columns); the label is truncated when space is short.
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard !area.isEmpty else { return }
        let labelText = TextWidth.sanitized(label)
        let labelWidth = TextWidth.of(labelText)
        let barWidth = labelWidth == 0 ? area.width : max(min(area.width, 4), area.width - labelWidth - 2)
        let (done, todo) = ProgressBar.barString(fraction: fraction, width: barWidth)
        buffer.fill(Rect(x: area.x, y: area.y, width: area.width, height: 1), with: Cell(" ", style: theme.style(labelRole)))
        var x = area.x
        x += buffer.put(done, x: x, y: area.y, style: theme.style(.progressDone), maxWidth: area.maxX - x)
        x += buffer.put(todo, x: x, y: area.y, style: theme.style(.progressTodo), maxWidth: area.maxX - x)
        let labelX = x + 2
        if labelWidth > 0, labelX < area.maxX {
            buffer.put(TextWidth.truncated(labelText, to: area.maxX - labelX), x: labelX, y: area.y,
                       style: theme.style(labelRole), maxWidth: area.maxX - labelX)
        }
    }
}
