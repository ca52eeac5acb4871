import Foundation
import EventModel
import TerminalUI

/// "What failed, why": one row per dead-letter queue.
enum DeadLetterQueuesScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = DeadLetterModel.queueRows(state)
        let total = DeadLetterModel.totalRetained(state)
        let right = "\(NumberFormat.grouped(total)) dead letter\(total == 1 ? "" : "s")"
        let area = layout.frame(Block(title: "Dead-letter queues", rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            let text = state.snapshot == nil ? Screen.noData(state)
                : (state.currentFilter.isEmpty ? "no dead-letter topics (patterns: \(state.deadLetterTopics.patterns.joined(separator: " ")))"
                   : "no DLQ matches the filter “\(state.currentFilter)”")
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1), style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let columns: [TableColumn] = [
            TableColumn("TOPIC", width: .flexible(min: 12, weight: 1), priority: 100),
            TableColumn("LETTERS", width: .fixed(7), alignment: .right, priority: 95),
            TableColumn("PENDING", width: .fixed(8), alignment: .right, priority: 90),
            TableColumn("OLDEST", width: .fixed(11), alignment: .right, priority: 70),
            TableColumn("NEWEST", width: .fixed(11), alignment: .right, priority: 80),
            TableColumn("GROWTH", width: .fixed(9), alignment: .right, priority: 60),
            TableColumn("TOP EXCEPTION", width: .flexible(min: 21, weight: 2), priority: 75),
        ]
        let selected = Reducer.selectedIndex(state.deadLetterQueueCursor, keys: rows.map(\.topic))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let visible = max(0, area.height - 1)
        let now = state.now
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            let loading = r.loaded == nil && r.retained > 0
            return TableRowContent(cells: [
                TableCell(r.topic, cutsInTheMiddle: true),
                TableCell(NumberFormat.grouped(r.retained), role: r.retained == 0 ? .rateZero : nil),
                TableCell(r.pending.map { (r.pendingIsUpperBound ? "≤" : "") + NumberFormat.grouped($0) } ?? (loading ? "…" : "–"),
                          role: (r.pending ?? 1) == 0 ? .rateZero : nil),
                TableCell(loading ? "…" : DeadLetterModel.age(r.oldestMillis, now: now), role: .textDim),
                TableCell(loading ? "…" : DeadLetterModel.age(r.newestMillis, now: now)),
                TableCell(DeadLetterModel.growth(r.growthPerMinute), role: (r.growthPerMinute ?? 0) > 0 ? .lagWarn : .rateZero),
                TableCell(r.topException ?? (loading ? "loading…" : "–"), role: r.topException == nil ? .textDim : nil),
            ], role: r.retained > 0 ? .dlqRow : nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: state.deadLetterQueueCursor.scroll,
                                                visibleRows: visible, rowCount: rows.count)
        table.render(in: area, into: &buffer, theme: theme)
    }
}

/// One DLQ topic's letters, newest first.
enum DeadLetterListScreen {
    static func render(_ state: AppState, topic: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let all = state.deadLetterRows[topic]
        let rows = DeadLetterModel.letterRows(state, topic: topic)
        let retained = TopicsModel.topicInfo(state, name: topic)?.retained ?? Int64(all?.count ?? 0)
        var title = "\(topic) · \(NumberFormat.grouped(retained)) dead letter\(retained == 1 ? "" : "s")"
        if let oldest = state.deadLetters[topic]?.map(\.record.timestampMillis).min() {
            title += " · oldest " + DeadLetterModel.age(oldest, now: state.now)
        }
        if let rate = state.meter.rates(topic: topic).perSecond60, rate > 0 {
            title += " · " + DeadLetterModel.growth(rate * 60)
        }
        var right = SidePane.backTitle(state)
        if let all, Int64(all.count) < retained { right = "newest \(all.count)" }
        let handled = DeadLetterModel.handledCount(state, topic: topic)
        if handled > 0 { right = state.showHandledLetters ? "\(handled) handled shown · H hides" : "\(handled) handled hidden · H shows" }
        if let marked = state.marks[topic]?.count, marked > 0 { right = "\(marked) marked · r requeues" }
        if !state.currentFilter.isEmpty {
            right = "\(rows.count)/\(all?.count ?? 0) · filter: \(state.currentFilter)"
                + (handled > 0 && !state.showHandledLetters ? " · \(handled) handled hidden" : "")
        }
        let area = layout.frame(Block(title: title, rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            let text = all == nil ? "loading dead letters…"
                : (!state.currentFilter.isEmpty ? "no dead letter matches the filter “\(state.currentFilter)”"
                   + (handled > 0 && !state.showHandledLetters ? " among those not requeued or skipped (H shows them)" : "")
                   : (handled > 0 ? "every loaded letter is requeued or skipped: H shows them" : "no dead letters on \(topic)"))
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1), style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let multiPartition = Set(rows.map(\.partition)).count > 1
        let columns: [TableColumn] = [
            // A queue has no offsets: its letters are numbered by their place from the head, as browsed.
            TableColumn(state.lettersAreQueued ? "#" : "OFFSET", width: .fixed(multiPartition ? 10 : 7), alignment: .right, priority: 100),
            TableColumn("FAILED AT", width: .fixed(9), priority: 90),
            TableColumn("ORIGINAL", width: .flexible(min: 14, weight: 1), priority: 80),
            TableColumn("EXCEPTION", width: .flexible(min: 22, weight: 3), priority: 95),
            TableColumn("EVENT TYPE", width: .flexible(min: 12, weight: 1), priority: 40),
            TableColumn("CORRELATION", width: .flexible(min: 11, weight: 1), priority: 60),
            TableColumn("STATE", width: .fixed(8), priority: 65),
        ]
        let selected = Reducer.selectedIndex(state.deadLetterCursor, keys: rows.map(\.key))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let visible = max(0, area.height - 1)
        let offset = state.utcOffsetSeconds
        let marks = state.marks[topic] ?? []
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            return TableRowContent(cells: [
                TableCell(multiPartition ? "\(r.partition):\(r.offset)" : String(r.offset)),
                TableCell(DeadLetterModel.failedAt(r, utcOffsetSeconds: offset)),
                TableCell(r.original, role: r.original == "–" ? .textDim : nil),
                TableCell(r.exception),
                TableCell(r.eventType.isEmpty ? "–" : r.eventType, role: r.eventType.isEmpty ? .textDim : nil),
                TableCell(r.correlation.isEmpty ? "–" : r.correlation, role: r.correlation.isEmpty ? .textDim : nil),
                TableCell(r.state, role: r.state == "pending" ? .dlqMarker : (r.state == "failed" ? .lagStall
                          : (r.state == "redriven" ? .lagOK : (r.state == "skipped" ? .textDim : .lagWarn)))),
            ], role: nil, isMarked: marks.contains(r.key))
        }
        table.showMarkColumn = !marks.isEmpty
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: state.deadLetterCursor.scroll,
                                                visibleRows: visible, rowCount: rows.count)
        table.render(in: area, into: &buffer, theme: theme)
    }
}

/// One dead letter in full: a scrollable text view.
enum DeadLetterDetailScreen {
    static func render(_ state: AppState, topic: String, partition: Int32, offset: Int64,
                       layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let letter = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
        let area0 = layout.tableArea  // what frame(_:) returns: where the text goes
        let lines = letter.map { DeadLetterModel.detailRows($0, state: state, width: area0.width) } ?? []
        let height = max(0, area0.height)
        let scroll = max(0, min(state.deadLetterDetailScroll, lines.count - height))
        var right = state.isPreview || lines.count <= height ? SidePane.backTitle(state) : "\(min(lines.count, scroll + height))/\(lines.count) lines"
        if !state.deadLetterDetailWrap {
            let widest = lines.map { TextWidth.of($0.text) }.max() ?? 0
            let column = state.deadLetterDetailColumn
            right += widest > area0.width ? " · cols \(column + 1)–\(min(widest, column + area0.width))/\(widest) · h l" : " · no wrap"
        }
        let area = layout.frame(Block(title: "\(topic) p\(partition)@\(offset)", rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard letter != nil else {
            buffer.put(state.deadLetters[topic] == nil ? "loading dead letters…" : "this dead letter is no longer among the newest \(DeadLetterModel.maxLettersPerTopic)",
                       x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let column = state.deadLetterDetailWrap ? 0 : state.deadLetterDetailColumn
        for (i, line) in lines.dropFirst(scroll).prefix(area.height).enumerated() {
            buffer.put(TextWidth.droppingColumns(line.text, column), x: area.x, y: area.y + i, style: theme.style(line.role ?? .text), maxWidth: area.width)
        }
    }
}
