import Foundation
import EventModel
import TerminalUI

/// The window the charts under the topics and lag tables cover; `w` cycles it.
struct ChartWindow: ViewStateValue {
    var minutes = 15

    static let choices = [5, 15, 60]

    static let cycle = KeyBinding.pure([.char("w")], "w", "chart window: 5, 15 or 60 minutes (tall terminals)") { state in
        var w = state.viewStates[ChartWindow.self]
        w.minutes = choices[((choices.firstIndex(of: w.minutes) ?? 0) + 1) % choices.count]
        state.viewStates[ChartWindow.self] = w
        Reducer.say(&state, "charts: the last \(w.minutes) minutes")
    }
}

/// Charts in the room a table leaves on a tall terminal: the whole source's produce and consume rates
/// under the topics (or queues), and the selected group's lag under the groups.
enum Charts {
    /// Rows a chart needs to be worth drawing.
    static let minimumRows = 8

    /// Rows one of several charts stacked in an area needs: its title, five plot rows, its axis and time labels.
    static let stackedRows = 8

    /// Splits a view's area into the table (as tall as its rows, at least its header and two rows) and,
    /// when at least ``minimumRows`` rows are left over on a wide enough screen, a chart below it that
    /// takes every row the table does not need: a tall terminal gets a taller chart, not empty rows.
    static func split(_ area: Rect, tableRows: Int, minimumWidth: Int = 60) -> (table: Rect, chart: Rect?) {
        let tableHeight = max(3, min(area.height, tableRows + 1))
        let left = area.height - tableHeight - 1
        guard left >= minimumRows, area.width >= minimumWidth else { return (area, nil) }
        let table = Rect(x: area.x, y: area.y, width: area.width, height: tableHeight)
        let chart = Rect(x: area.x, y: area.y + tableHeight + 1, width: area.width, height: left)
        return (table, chart)
    }

    /// `count` charts stacked in `area`, top to bottom, sharing its rows (the first ones get the remainder).
    static func stack(_ area: Rect, count: Int) -> [Rect] {
        guard count > 0 else { return [] }
        let each = area.height / count
        let extra = area.height % count
        var y = area.y
        return (0..<count).map { i in
            let h = each + (i < extra ? 1 : 0)
            defer { y += h }
            return Rect(x: area.x, y: y, width: area.width, height: h)
        }
    }

    /// What was written to every topic and consumed by every group, per second, two charts on one scale.
    static func throughput(_ state: AppState, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let window = Double(state.viewStates[ChartWindow.self].minutes * 60)
        let (produced, consumed) = state.meter.totals
        // One scale for both, from the columns as drawn (buckets averaged to fit the width), so the top
        // label is a value a column reaches. The axis takes a few columns: measured at the width left after it.
        // Stacked when each gets ``stackedRows``; else side by side (a short chart of three rows says little).
        let stacked = area.height >= 2 * stackedRows || area.width < 60
        let (first, second): (Rect, Rect)
        if stacked {
            let half = area.height / 2
            first = Rect(x: area.x, y: area.y, width: area.width, height: half)
            second = Rect(x: area.x, y: area.y + half, width: area.width, height: area.height - half)
        } else {
            let gap = 3
            let half = (area.width - gap) / 2
            first = Rect(x: area.x, y: area.y, width: half, height: area.height)
            second = Rect(x: area.x + half + gap, y: area.y, width: area.width - half - gap, height: area.height)
        }
        let width = max(1, first.width - 8)
        let columns = ColumnChart.columns(produced, bucketSeconds: 5, windowSeconds: window, width: width).columns
            + ColumnChart.columns(consumed, bucketSeconds: 5, windowSeconds: window, width: width).columns
        let scale = columns.max()
        let format: @Sendable (Double) -> String = { NumberFormat.rate($0) }
        ColumnChart(title: stacked ? "written /s, every topic" : "written /s", values: produced, bucketSeconds: 5, windowSeconds: window,
                    scale: scale, format: format)
            .render(in: first, into: &buffer, theme: theme)
        ColumnChart(title: stacked ? "consumed /s, every group" : "consumed /s", values: consumed, bucketSeconds: 5, windowSeconds: window,
                    scale: scale, role: .rateZero, format: format)
            .render(in: second, into: &buffer, theme: theme)
    }

    /// What was written to one topic per second (its partitions' sum), over the meter's history (the view names the topic).
    static func topic(_ state: AppState, topic: String, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let meter = state.meter
        let window = min(Double(state.viewStates[ChartWindow.self].minutes * 60), meter.bucketSeconds * Double(meter.historyCapacity))
        ColumnChart(title: "written /s, this topic", values: meter.history(topic: topic), bucketSeconds: meter.bucketSeconds,
                    windowSeconds: window, format: { NumberFormat.rate($0) })
            .render(in: area, into: &buffer, theme: theme)
    }

    /// Total lag per group over time, one chart each (each on its own scale, named in its title), in the
    /// table's order, as many as fit at ``stackedRows`` rows or more, the selected one always among them;
    /// only the selected group's when two do not fit.
    static func lags(_ state: AppState, groups: [String], selected: String, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let fit = min(groups.count, area.height / stackedRows)
        guard fit >= 2 else { return lag(state, group: selected, in: area, into: &buffer, theme: theme) }
        var shown = Array(groups.prefix(fit))
        if !shown.contains(selected) { shown[fit - 1] = selected }
        // One axis width for all, from the widest top label, so the plots line up column for column.
        let axis = shown.map { group in
            TextWidth.of(lagFormat(state.lagTracker.lagHistory(group: group).max().map(Double.init) ?? 0))
        }.max() ?? 0
        for (group, rect) in zip(shown, stack(area, count: fit)) {
            lag(state, group: group, in: rect, axisWidth: axis, into: &buffer, theme: theme)
        }
    }

    /// How a lag is written on a chart's axis.
    private static let lagFormat: @Sendable (Double) -> String = { NumberFormat.rate($0) }

    /// The selected group's total lag over the tracker's history (10 minutes at 5 s).
    static func lag(_ state: AppState, group: String, in area: Rect, axisWidth: Int = 0, into buffer: inout ScreenBuffer, theme: Theme) {
        let config = state.lagTracker.configuration
        let values = state.lagTracker.lagHistory(group: group).map(Double.init)
        let window = min(Double(state.viewStates[ChartWindow.self].minutes * 60), config.historyBucketSeconds * Double(config.historyCapacity))
        var chart = ColumnChart(title: "total lag of \(group)", values: values, bucketSeconds: config.historyBucketSeconds, windowSeconds: window,
                                role: .lagWarn, format: lagFormat)
        chart.minimumAxisWidth = axisWidth
        chart.render(in: area, into: &buffer, theme: theme)
    }
}
