/// A column chart with axes: one column per time slot (eighth-block precision), a y axis with the
/// scale's top, middle and zero, and an x axis marked in time before now. Values are per-bucket
/// figures, oldest first; buckets are averaged into columns when there are more than the width holds.
public struct ColumnChart: Sendable {
    /// Shown on the chart's first row, before its scale (`produced /s`).
    public var title: String
    /// Per-bucket values, oldest first (the last is now).
    public var values: [Double]
    /// Seconds per bucket.
    public var bucketSeconds: Double
    /// The window drawn, in seconds (the newest this many seconds of buckets).
    public var windowSeconds: Double
    /// The value a full column stands for; nil: the largest shown.
    public var scale: Double?
    /// How a value is written on the axis (`3,025`).
    public var format: @Sendable (Double) -> String
    /// How the columns are drawn.
    public var role: Role
    /// The y axis labels' width at least: charts stacked one above another pass the widest of theirs, so
    /// that their plots, and so their columns and time marks, line up.
    public var minimumAxisWidth = 0

    /// Creates a chart.
    public init(title: String, values: [Double], bucketSeconds: Double, windowSeconds: Double, scale: Double? = nil,
                role: Role = .sparkline, format: @escaping @Sendable (Double) -> String) {
        self.title = title
        self.values = values
        self.bucketSeconds = bucketSeconds
        self.windowSeconds = windowSeconds
        self.scale = scale
        self.role = role
        self.format = format
    }

    /// The columns drawn in `width` cells: the window's buckets, averaged `per` to a column, newest last.
    public static func columns(_ values: [Double], bucketSeconds: Double, windowSeconds: Double, width: Int) -> (columns: [Double], bucketsPerColumn: Int) {
        guard width > 0, bucketSeconds > 0 else { return ([], 1) }
        let wanted = max(1, Int((windowSeconds / bucketSeconds).rounded(.up)))
        let per = max(1, (wanted + width - 1) / width)
        let shown = Array(values.suffix(wanted).map { $0.isFinite ? max(0, $0) : 0 })
        var out: [Double] = []
        // Groups end at the newest bucket, so the last column is always "now".
        var end = shown.count
        while end > 0 {
            let start = max(0, end - per)
            let slice = shown[start..<end]
            out.append(slice.reduce(0, +) / Double(slice.count))
            end = start
        }
        return (Array(out.reversed()), per)
    }

    /// Draws title, axes and columns in `area` (at least 4 rows and 12 columns, else nothing).
    public func render(in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let area = area.intersection(buffer.area)
        guard area.height >= 4, area.width >= 12 else { return }
        let plotRows = area.height - 3  // title, x axis, time labels
        let probe = ColumnChart.columns(values, bucketSeconds: bucketSeconds, windowSeconds: windowSeconds, width: area.width)
        let top = scale ?? (probe.columns.max() ?? 0)
        let labels = [format(top), format(top / 2), "0"]
        let axisWidth = max(minimumAxisWidth, labels.map(TextWidth.of).max() ?? 1)
        let plotX = area.x + axisWidth + 1
        let plotWidth = area.x + area.width - plotX
        guard plotWidth >= 4 else { return }
        let (columns, per) = ColumnChart.columns(values, bucketSeconds: bucketSeconds, windowSeconds: windowSeconds, width: plotWidth)

        let window = NumberFormat.axisDuration(windowSeconds)
        let heading = "\(title) · last \(window)" + (values.isEmpty ? " · no figures yet" : top > 0 ? " · top \(format(top))" : " · none")
        buffer.put(heading, x: area.x, y: area.y, style: theme.style(.tableHeader), maxWidth: area.width)

        let axis = theme.style(.textDim)
        let y0 = area.y + 1
        for row in 0..<plotRows {
            let y = y0 + row
            let label = row == 0 ? labels[0] : (row == plotRows / 2 ? labels[1] : (row == plotRows - 1 ? labels[2] : ""))
            buffer.put(TextWidth.padded(label, to: axisWidth, alignRight: true), x: area.x, y: y, style: axis)
            buffer.put(label.isEmpty ? "│" : "┤", x: area.x + axisWidth, y: y, style: axis)
        }
        // Columns, right-aligned: the newest at the right edge.
        let style = theme.style(role)
        let offset = plotWidth - columns.count
        for (i, v) in columns.enumerated() {
            let x = plotX + offset + i
            guard top > 0 else { continue }
            var eighths = Int((min(v, top) / top * Double(plotRows * 8)).rounded())
            if v > 0 && eighths == 0 { eighths = 1 }  // something, however small, is not nothing
            for row in (0..<plotRows).reversed() where eighths > 0 {
                let cell = min(8, eighths)
                buffer.put(ColumnChart.blocks[cell - 1], x: x, y: y0 + row, style: style)
                eighths -= cell
            }
        }
        // X axis and time marks: "now" at the right, then every round step back (1, 5 or 15 minutes…).
        let axisY = y0 + plotRows
        buffer.put("└" + String(repeating: "─", count: plotWidth), x: area.x + axisWidth, y: axisY, style: axis)
        let secondsPerColumn = Double(per) * bucketSeconds
        buffer.put("now", x: area.x + area.width - 3, y: axisY + 1, style: axis)
        let step = ColumnChart.markStep(windowSeconds)
        for k in 1..<max(1, Int(windowSeconds / step)) {
            let back = step * Double(k)
            let x = area.x + area.width - 1 - Int((back / secondsPerColumn).rounded())
            let mark = "-" + NumberFormat.axisDuration(back)
            guard x - TextWidth.of(mark) / 2 > plotX, x + 4 < area.x + area.width - 4 else { continue }
            buffer.put(mark, x: x - TextWidth.of(mark) / 2, y: axisY + 1, style: axis)
        }
    }

    static let blocks = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// A round distance between time marks that gives two to five of them over `window` seconds.
    static func markStep(_ window: Double) -> Double {
        for step in [10.0, 30, 60, 120, 300, 600, 900, 1800, 3600] where window / step <= 5 { return step }
        return 3600
    }
}
