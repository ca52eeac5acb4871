import Foundation
import EventModel
import TerminalUI

/// "Is anyone falling behind, since when, will they catch up?": one row per consumer group.
enum LagScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = LagModel.rows(state)
        // Groups that cannot be evaluated are not OK, but they are not alarms either: counted apart.
        let unknown = state.groupLags.filter { $0.status == .unknown }.count
        let bad = LagModel.notOK(state) - unknown
        let arrow = state.lagSortDescending ? "▼" : "▲"
        let title = rows.count == state.groupLags.count ? "Consumer groups" : "Consumer groups \(rows.count)/\(state.groupLags.count)"
        // "all OK" only over groups actually evaluated: no snapshot is no data, no groups is no groups.
        let health = state.snapshot == nil ? "no data" : state.groupLags.isEmpty ? "no groups"
            : bad == 0 && unknown == 0 ? "all OK"
            : [bad > 0 ? "\(bad) not OK" : nil, unknown > 0 ? "\(unknown) unknown" : nil].compactMap { $0 }.joined(separator: " · ")
        let right = health + " · sort: \(state.lagSort.title) \(arrow)"
            + (LagModel.showsUnknown(rows) ? " · " + LagModel.unknownLegend : "")
        let area = layout.frame(Block(title: title, rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            let text = state.snapshot == nil ? Screen.noData(state)
                : (state.currentFilter.isEmpty ? "no consumer groups have committed offsets yet" : "no group matches the filter “\(state.currentFilter)”")
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1), style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let perMinute = max(1, Int((60 / state.lagTracker.configuration.historyBucketSeconds).rounded()))
        let sparkWidth = perMinute
        let lagTitle = state.lagInSeconds ? "MAX BEHIND" : "MAX LAG"
        // Group ids are what the operator reads first: as wide as the longest, within reason.
        // On a narrow terminal the name gives way (truncated) before STATUS is dropped: a group
        // without its status says nothing.
        let groupWidth = max(6, min(min(40, max(14, rows.lazy.map { TextWidth.of($0.id) }.max() ?? 14)), area.width - 10))
        var columns: [TableColumn] = [
            TableColumn("GROUP", width: .flexible(min: groupWidth, weight: 1), priority: 100),
            TableColumn("STATUS", width: .fixed(7), priority: 95),
            TableColumn("STATE", width: .fixed(7), priority: 10),
            TableColumn("MEMBERS", width: .fixed(7), alignment: .right, priority: 40),
            TableColumn("TOPICS", width: .flexible(min: 10, weight: 1), priority: 15),
            TableColumn("TOTAL LAG", width: .fixed(10), alignment: .right, priority: 90),
            TableColumn(lagTitle, width: .fixed(10), alignment: .right, priority: 45),
            TableColumn("BEHIND", width: .fixed(8), alignment: .right, priority: 85),
            TableColumn("TREND", width: .fixed(10), priority: 70),
            TableColumn("CATCH-UP", width: .fixed(8), alignment: .right, priority: 60),
            TableColumn("LAG 1 MIN", width: .fixed(sparkWidth), priority: 30),
        ]
        let selected = state.lagCursor.selectedKey.flatMap { key in rows.firstIndex { $0.id == key } } ?? 0
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let (tableArea, chartArea) = Charts.split(area, tableRows: rows.count)
        if let chartArea, rows.indices.contains(selected) {
            Charts.lags(state, groups: rows.map(\.id), selected: rows[selected].id, in: chartArea, into: &buffer, theme: theme)
        }
        let visible = max(0, tableArea.height - 1)
        let tracker = state.lagTracker
        // One scale for the groups on screen, named in the header: a lag of 10 and one of 100,000 do not both fill the cell.
        let scroll = Table.scrollOffset(selected: selected, current: state.lagCursor.scroll, visibleRows: visible, rowCount: rows.count)
        let scale = TopicsScreen.sharedScale(rows[scroll..<min(rows.count, scroll + visible)].map { tracker.lagHistory(group: $0.id).map(Double.init) },
                                             width: sparkWidth)
        if let scale, let i = columns.firstIndex(where: { $0.title == "LAG 1 MIN" }) {
            let title = "1m █" + NumberFormat.rate(scale)
            if TextWidth.of(title) <= sparkWidth { columns[i].title = title }
        }
        let inSeconds = state.lagInSeconds
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let g = rows[i]
            let maxCell: String
            if inSeconds {
                let worst = g.partitions.compactMap(\.secondsBehind).max()
                maxCell = worst == nil ? LagModel.behind(g) : LagModel.behind(worst, lowerBound: g.secondsBehindIsLowerBound)
            } else {
                maxCell = LagModel.lag(g.maxLag, lowerBound: g.totalLagIsLowerBound)
            }
            let trendRole: Role? = {
                if case .growing = g.trend, (g.totalLag ?? 0) > 0 { return .lagWarn }
                return nil
            }()
            let history = tracker.lagHistory(group: g.id).map(Double.init)
            // A group named in the context or with --group that has committed nothing (or does not
            // exist): no status to give, and it says so instead of looking healthy.
            let empty = g.hasNoPositions
            return TableRowContent(cells: [
                TableCell(g.id, cutsInTheMiddle: true),
                empty ? TableCell("–", role: .textDim) : TableCell(g.status.description, role: LagModel.role(g.status)),
                TableCell(g.state, role: g.members == 0 ? .textDim : nil),
                TableCell(String(g.members), role: g.members == 0 ? .lagWarn : nil),
                TableCell(empty ? "no offsets" : g.topics.joined(separator: ","), role: empty ? .lagWarn : .textDim),
                empty ? TableCell("–", role: .textDim)
                    : TableCell(LagModel.lag(g.totalLag, lowerBound: g.totalLagIsLowerBound), role: g.totalLag == 0 ? .rateZero : nil),
                TableCell(empty ? "–" : maxCell, role: empty ? .textDim : nil),
                TableCell(LagModel.behind(g)),
                TableCell(empty ? "–" : LagModel.trend(g.trend), role: empty ? .textDim : trendRole),
                empty ? TableCell("–", role: .textDim) : TableCell(LagModel.catchUp(g), role: LagModel.catchUp(g) == "never" ? .lagWarn : nil),
                TableCell(Sparkline.string(history, width: sparkWidth, maxValue: scale), role: .sparkline),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = scroll
        table.sort(byColumnTitled: state.lagSort.column, descending: state.lagSortDescending)
        table.render(in: tableArea, into: &buffer, theme: theme)
    }
}

/// One group's partitions: where the lag is and which partition causes the status.
enum GroupPartitionsScreen {
    static func render(_ state: AppState, group: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = LagModel.partitionRows(state, group: group)
        let g = state.groupLags.first { $0.id == group }
        let title = g.map { g in
            let status = g.hasNoPositions ? "no offsets" : g.status.description
            return "\(group) · \(status) · \(g.members) member\(g.members == 1 ? "" : "s")"
        } ?? group
        let unit = (state.lagInSeconds ? "lag in seconds (t: offsets)" : "lag in offsets (t: seconds)")
            + (g.map { LagModel.showsUnknown([$0]) } == true ? " · " + LagModel.unknownLegend : "")
        let area = layout.frame(Block(title: title, rightTitle: unit), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            buffer.put("group \(group) has no committed offsets (or is gone)", x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let columns: [TableColumn] = [
            TableColumn("TOPIC", width: .flexible(min: 10, weight: 1), priority: 100),
            TableColumn("PART", width: .fixed(4), alignment: .right, priority: 99),
            TableColumn("STATUS", width: .fixed(7), priority: 95),
            TableColumn("COMMITTED", width: .fixed(11), alignment: .right, priority: 60),
            TableColumn("HIGH", width: .fixed(11), alignment: .right, priority: 50),
            TableColumn(state.lagInSeconds ? "BEHIND" : "LAG", width: .fixed(10), alignment: .right, priority: 90),
            TableColumn("CONSUME/s", width: .fixed(9), alignment: .right, priority: 40),
            TableColumn("PRODUCE/s", width: .fixed(9), alignment: .right, priority: 35),
            TableColumn("LAST COMMIT", width: .fixed(11), alignment: .right, priority: 80),
        ]
        let selected = state.groupCursor.selectedKey.flatMap { key in rows.firstIndex { LagModel.key($0) == key } } ?? 0
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let inSeconds = state.lagInSeconds
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let p = rows[i]
            let lag = inSeconds ? LagModel.behind(p) : LagModel.lag(p.lag)
            // A partition the broker reports on has no commit: "none" would claim it never consumed.
            let reported = p.basis == .reported
            return TableRowContent(cells: [
                TableCell(p.topic),
                TableCell(String(p.partition)),
                TableCell(p.status.description, role: LagModel.role(p.status)),
                TableCell(p.committed.map(NumberFormat.grouped) ?? (reported ? "–" : "none"), role: p.committed == nil ? .textDim : nil),
                TableCell(p.high.map(NumberFormat.grouped) ?? "–", role: p.high == nil ? .textDim : nil),
                TableCell(lag, role: p.lag == 0 ? .rateZero : nil),
                TopicsScreen.rateCell(p.consumeRate),
                TopicsScreen.rateCell(p.produceRate),
                TableCell(LagModel.lastCommit(p),
                          role: p.status == .stop ? .lagStop : nil),
            ], role: nil, isMarked: false)
        }
        // A tall terminal: the group's total lag over time in the rows the partitions leave.
        let (tableArea, chartArea) = Charts.split(area, tableRows: rows.count)
        if let chartArea { Charts.lag(state, group: group, in: chartArea, into: &buffer, theme: theme) }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: state.groupCursor.scroll,
                                                visibleRows: max(0, tableArea.height - 1), rowCount: rows.count)
        table.render(in: tableArea, into: &buffer, theme: theme)
    }
}
