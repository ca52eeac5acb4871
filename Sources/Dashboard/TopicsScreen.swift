import Foundation
import EventModel
import TerminalUI

/// "What is flowing?": every topic with its size and produce rates.
enum TopicsScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = TopicsModel.cachedRows(state)
        if TopicsModel.showsQueues(state) {
            return QueuesScreen.render(state, rows: rows, layout: layout, into: &buffer, theme: theme)
        }
        guard let frame = TopicsScreen.frame(state, rows: rows, noun: "Topics", sortTitle: state.topicSort.title, sparkPer: 50,
                                             empty: state.currentFilter.isEmpty ? "no topics yet" : "no topic matches the filter “\(state.currentFilter)”",
                                             layout: layout, into: &buffer, theme: theme) else { return }
        let (tableArea, selected, scroll, sparkWidth, scale) = (frame.table, frame.selected, frame.scroll, frame.sparkWidth, frame.scale)
        let meter = state.meter
        let columns: [TableColumn] = [
            TableColumn("TOPIC", width: .flexible(min: 12, weight: 1), priority: 100),
            TableColumn("PART", width: .fixed(4), alignment: .right, priority: 50),
            TableColumn("TOTAL", width: .fixed(11), alignment: .right, priority: 90),
            TableColumn("1s/s", width: .fixed(7), alignment: .right, priority: 70),
            TableColumn("10s/s", width: .fixed(7), alignment: .right, priority: 80),
            TableColumn("60s/s", width: .fixed(7), alignment: .right, priority: 60),
            TableColumn(sparkTitle(width: sparkWidth, bucket: state.meter.bucketSeconds, scale: scale), width: .fixed(sparkWidth), priority: 40),
            TableColumn("GROUPS", width: .fixed(6), alignment: .right, priority: 30),
        ]
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            let name = TableCell(r.name, role: r.isDeadLetter && r.total > 0 ? .dlqMarker : nil, cutsInTheMiddle: true, badge: r.isDeadLetter ? "  DLQ" : "")
            return TableRowContent(cells: [
                name,
                TableCell(String(r.partitions)),
                TableCell(NumberFormat.grouped(r.total)),
                rateCell(r.rates.perSecond1),
                rateCell(r.rates.perSecond10),
                rateCell(r.rates.perSecond60),
                TableCell(Sparkline.string(meter.history(topic: r.name), width: sparkWidth, maxValue: scale), role: .sparkline),
                TableCell(r.groups == 0 ? "–" : String(r.groups), role: r.groups == 0 ? .textDim : nil),
            ], role: r.isDeadLetter && r.total > 0 ? .dlqRow : nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = scroll
        table.sort(byColumnTitled: state.topicSort.column, descending: state.topicSortDescending)
        table.render(in: tableArea, into: &buffer, theme: theme)
    }

    /// What the topics and the queues tables share, drawn and measured once: the frame (count, staleness after
    /// an outage, sort), the message of an empty table, the chart a tall terminal gets below, the scroll, and
    /// the one sparkline scale of the rows on screen. Nil when nothing more is to be drawn.
    struct Frame {
        var table: Rect
        var selected: Int
        var scroll: Int
        var sparkWidth: Int
        var scale: Double?
    }

    static func frame(_ state: AppState, rows: [TopicRow], noun: String, sortTitle: String, sparkPer: Int, empty: String,
                      layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) -> Frame? {
        let arrow = state.topicSortDescending ? "▼" : "▲"
        let total = state.snapshot?.topics.count ?? 0
        var title = rows.count == total ? noun : "\(noun) \(rows.count)/\(total)"
        // Figures from before an outage are the last ones known, not live ones: the title says since when.
        if case .down = state.connection, let taken = state.snapshot?.time {
            title += " · stale since " + Clock.hms(taken, utcOffsetSeconds: state.utcOffsetSeconds)
        }
        let area = layout.frame(Block(title: title, rightTitle: "sort: \(sortTitle) \(arrow)"), into: &buffer, theme: theme)
        guard !area.isEmpty else { return nil }
        if rows.isEmpty {
            buffer.put(state.snapshot == nil ? Screen.noData(state) : empty, x: area.x + 1, y: area.y + min(1, area.height - 1),
                       style: theme.style(.textDim), maxWidth: area.width - 1)
            return nil
        }
        // Whole minutes of history: 12 buckets of the meter make one minute at the default 5 s.
        let perMinute = max(1, Int((60 / state.meter.bucketSeconds).rounded()))
        let sparkWidth = perMinute * max(1, min(3, area.width / sparkPer))
        let selected = state.topicsCursor.selectedKey.flatMap { TopicsModel.rowIndex(state, name: $0) } ?? 0
        let (tableArea, chartArea) = Charts.split(area, tableRows: rows.count)
        if let chartArea { Charts.throughput(state, in: chartArea, into: &buffer, theme: theme) }
        let visible = max(0, tableArea.height - 1)
        let scroll = Table.scrollOffset(selected: selected, current: state.topicsCursor.scroll, visibleRows: visible, rowCount: rows.count)
        let meter = state.meter
        let scale = sharedScale(rows[scroll..<min(rows.count, scroll + visible)].map { meter.history(topic: $0.name) }, width: sparkWidth)
        return Frame(table: tableArea, selected: selected, scroll: scroll, sparkWidth: sparkWidth, scale: scale)
    }

    static func rateCell(_ rate: Double?) -> TableCell {
        guard let rate else { return TableCell("–", role: .textDim) }
        return TableCell(NumberFormat.rate(rate), role: rate == 0 ? .rateZero : nil)
    }

    /// The sparkline column's title: its window, and with a shared scale the value a full block stands for
    /// (`1m ▕2,978/s`), when that fits.
    static func sparkTitle(width: Int, bucket: Double, scale: Double? = nil, unit: String = "/s") -> String {
        let seconds = Double(width) * bucket
        let whole = seconds.truncatingRemainder(dividingBy: 60) == 0
        if let scale, scale > 0 {
            let short = (whole ? "\(Int(seconds / 60))m" : "\(Int(seconds))s") + " █" + NumberFormat.rate(scale) + unit
            if TextWidth.of(short) <= width { return short }
        }
        return whole ? "LAST \(Int(seconds / 60)) MIN" : "LAST \(Int(seconds))s"
    }

    /// One scale for the sparklines of the rows on screen: the largest value any of them shows, so a DLQ
    /// with one letter does not draw the same full block as a topic at 3,000/s. Nil when none is above 0.
    static func sharedScale(_ histories: [[Double]], width: Int) -> Double? {
        let top = histories.lazy.compactMap { $0.suffix(width).filter(\.isFinite).max() }.max() ?? 0
        return top > 0 ? top : nil
    }
}

/// One topic's partitions: watermarks, rates, and who reads them how far behind.
enum PartitionsScreen {
    static func render(_ state: AppState, topic: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = TopicsModel.partitionRows(state, topic: topic)
        let info = TopicsModel.topicInfo(state, name: topic)
        let count = info?.partitions.count ?? 0
        let block = Block(title: "\(topic) · \(count) partition\(count == 1 ? "" : "s")", rightTitle: SidePane.backTitle(state))
        let area = layout.frame(block, into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            buffer.put("topic \(topic) has no partitions (or is gone)", x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        var columns: [TableColumn] = [
            TableColumn("PARTITION", width: .fixed(9), alignment: .right, priority: 100),
            TableColumn("LOW", width: .fixed(11), alignment: .right, priority: 40),
            TableColumn("HIGH", width: .fixed(11), alignment: .right, priority: 90),
            TableColumn("RECORDS", width: .fixed(11), alignment: .right, priority: 60),
            TableColumn("1s/s", width: .fixed(7), alignment: .right, priority: 70),
            TableColumn("10s/s", width: .fixed(7), alignment: .right, priority: 80),
            TableColumn("60s/s", width: .fixed(7), alignment: .right, priority: 50),
            TableColumn("CONSUMER LAG", width: .flexible(min: 14, weight: 1), priority: 75),
        ]
        // Kafka reports who leads and who holds each partition: shown after HIGH, trouble in its roles.
        let replicated = info.map(TopicsModel.hasReplication) ?? false
        let down = Set(state.snapshot?.brokers?.down ?? [])
        let replication = replicated ? rows.map { TopicsModel.replication($0.watermarks, down: down) } : []
        if replicated {
            // As wide as their longest value (broker ids may have four digits), within reason.
            let width = { (cells: [String], title: String) in min(24, max(title.count, cells.lazy.map(TextWidth.of).max() ?? 0)) }
            columns.insert(contentsOf: [
                TableColumn("LEADER", width: .fixed(6), alignment: .right, priority: 85),
                TableColumn("REPLICAS", width: .fixed(width(replication.map(\.replicas), "REPLICAS")), priority: 45),
                TableColumn("ISR", width: .fixed(width(replication.map(\.inSync), "ISR")), priority: 65),
            ], at: 3)
        }
        let selected = Reducer.selectedIndex(state.partitionsCursor, keys: rows.map { String($0.partition) })
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            let lag = r.groupLags.isEmpty ? "–" : r.groupLags.map { "\($0.group) \(NumberFormat.grouped($0.lag))" }.joined(separator: ", ")
            var cells = [
                TableCell(String(r.partition)),
                TableCell(NumberFormat.grouped(r.watermarks.low)),
                TableCell(NumberFormat.grouped(r.watermarks.high)),
                TableCell(NumberFormat.grouped(r.watermarks.count)),
                TopicsScreen.rateCell(r.rates.perSecond1),
                TopicsScreen.rateCell(r.rates.perSecond10),
                TopicsScreen.rateCell(r.rates.perSecond60),
                TableCell(lag, role: r.groupLags.isEmpty ? .textDim : nil),
            ]
            if replicated {
                let rep = replication[i]
                cells.insert(contentsOf: [TableCell(rep.leader, role: rep.leaderRole), TableCell(rep.replicas),
                                          TableCell(rep.inSync, role: rep.inSyncRole)], at: 3)
            }
            return TableRowContent(cells: cells, role: nil, isMarked: false)
        }
        // A tall terminal: what the topic was written per second in the rows the partitions leave.
        let (tableArea, chartArea) = Charts.split(area, tableRows: rows.count)
        if let chartArea { Charts.topic(state, topic: topic, in: chartArea, into: &buffer, theme: theme) }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: state.partitionsCursor.scroll,
                                                visibleRows: max(0, tableArea.height - 1), rowCount: rows.count)
        table.render(in: tableArea, into: &buffer, theme: theme)
    }
}
