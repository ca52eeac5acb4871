import Foundation
import EventModel
import TerminalUI

/// "Which sagas are running, which failed?": recent sagas by correlation ID.
enum SagasScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = SagaModel.rows(state)
        let total = state.sagas.rows?.count ?? 0
        let failed = rows.filter { $0.state == .failed }.count, timedOut = rows.filter { $0.state == .timedOut }.count
        var title = rows.count == total ? "Sagas" : "Sagas \(rows.count)/\(total)"
        if failed > 0 { title += " · \(NumberFormat.grouped(failed)) failed" }
        if timedOut > 0 { title += " · \(NumberFormat.grouped(timedOut)) timed out" }
        let arrow = state.sagas.sortDescending ? "▼" : "▲"
        // The column header marks the sort too: a note about where the rows came from matters more.
        let right = state.sagas.note.flatMap { $0 == "index" ? nil : $0 } ?? "sort: \(state.sagas.sort.title) \(arrow)"
        // One saga type for every row: named once in the title instead of a column.
        let types = Set(rows.map(\.type))
        let singleType = types.count == 1 ? types.first ?? nil : nil
        if let singleType { title += " · " + singleType }
        let area = layout.frame(Block(title: title, rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            let text: String
            if let error = state.sagas.error { text = "cannot load sagas: " + error }
            else if state.sagas.rows == nil { text = "loading sagas…" }
            else if !state.currentFilter.isEmpty { text = "no saga matches the filter “\(state.currentFilter)”" }
            else { text = "no records with a correlation ID yet (headers correlation-id, … or JSON /correlationId)" }
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1),
                       style: theme.style(state.sagas.error == nil ? .textDim : .statusError), maxWidth: area.width - 1)
            // Where sagas come from (a RabbitMQ tap, read-only) explains an empty list; a long note has no room in the title.
            if let note = state.sagas.note, note != "index", area.height > 3 {
                buffer.put(note, x: area.x + 1, y: area.y + 2, style: theme.style(.textDim), maxWidth: area.width - 1)
            }
            return
        }
        let longest = rows.lazy.map { TextWidth.of($0.id) }.max() ?? 12
        // Narrow screens keep the state next to a shortened ID.
        let idWidth = area.width < 40 ? max(4, min(longest, area.width - 13)) : min(36, max(11, longest))
        var columns: [TableColumn] = [
            TableColumn("CORRELATION", width: .flexible(min: idWidth, weight: 1), priority: 100),
            TableColumn("SAGA", width: .flexible(min: 9, weight: 1), priority: 50),
            TableColumn("STATE", width: .fixed(12), priority: 95),
            TableColumn("STARTED", width: .fixed(8), priority: 70),
            TableColumn("DURATION", width: .fixed(8), alignment: .right, priority: 80),
            TableColumn("STEPS", width: .fixed(5), alignment: .right, priority: 85),
            TableColumn("LAST EVENT", width: .flexible(min: 17, weight: 1), priority: 75),
            TableColumn("SERVICES", width: .flexible(min: 16, weight: 3), priority: 30),
        ]
        if singleType != nil { columns.remove(at: 1) }
        let selected = Reducer.selectedIndex(state.sagas.cursor, keys: rows.map(\.id))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let visible = max(0, area.height - 1)
        let offset = state.utcOffsetSeconds
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            let last = r.lastEvent ?? "–"
            let lastRole: Role? = r.lastEvent.map { SagaAssembler.inferredOutcome($0) == .failed ? .sagaStepFailed : nil } ?? .textDim
            var cells: [TableCell] = [
                TableCell(r.id),
                TableCell(r.type ?? "–", role: r.type == nil ? .textDim : nil),
                TableCell(r.state.label, role: SagaModel.role(r.state)),
                TableCell(Clock.hms(Date(timeIntervalSince1970: Double(r.startMillis) / 1000), utcOffsetSeconds: offset)),
                TableCell(NumberFormat.preciseDuration(r.durationSeconds)),
                TableCell(SagaModel.steps(r)),
                TableCell(last, role: lastRole),
                TableCell(r.services.isEmpty ? "–" : SagaModel.shortServices(r.services).joined(separator: ", "), role: .textDim),
            ]
            if singleType != nil { cells.remove(at: 1) }
            return TableRowContent(cells: cells, role: nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: state.sagas.cursor.scroll, visibleRows: visible, rowCount: rows.count)
        table.sort(byColumnTitled: state.sagas.sort.column, descending: state.sagas.sortDescending)
        table.render(in: area, into: &buffer, theme: theme)
    }
}

/// "What happened to this order?": one saga's events and spans on one time axis, its compact history
/// and the selected item in full.
enum SagaTimelineScreen {
    static func render(_ state: AppState, id: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let timeline = state.sagas.timelineID == id ? state.sagas.timeline : nil
        let note = state.sagas.note.flatMap { $0 == "index" ? nil : $0 }
        let right = state.sagas.following ? "● following" : (note ?? "f follow")
        var title = id
        if let t = timeline, !t.items.isEmpty {
            // Parts in order of importance, each only when it still leaves room for the right title.
            let room = layout.content.width - 4 - TextWidth.of(right) - 3
            let parts = [t.sagaType ?? "saga", t.state.label, NumberFormat.preciseDuration(t.durationSeconds),
                         "\(t.services.count) service\(t.services.count == 1 ? "" : "s")", "started " + SagaModel.clock(nanos: t.startNanos, state)]
            for part in parts where TextWidth.of(title) + 3 + TextWidth.of(part) <= room { title += " · " + part }
        }
        let block = Block(title: title, rightTitle: right)
        let area = layout.frame(block, into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard let t = timeline, !t.items.isEmpty else {
            let text: String
            if let error = state.sagas.error { text = "cannot load saga \(id): \(error)" }
            else if timeline == nil { text = "loading saga \(id)…" }
            else if state.sagas.timelineIncomplete, state.sagas.note?.hasPrefix("index") == true, state.sagas.note != "index" {
                text = "no records or spans with correlation ID \(id) yet: the index is catching up"
            }
            else { text = "no records or spans with correlation ID \(id)" + (state.sagas.following ? " yet: waiting for them to arrive" : "") }
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1),
                       style: theme.style(state.sagas.error == nil ? .textDim : .statusError), maxWidth: area.width - 1)
            if let note = state.sagas.note, note != "index", area.height > 3 {
                buffer.put(note, x: area.x + 1, y: area.y + 2, style: theme.style(.textDim), maxWidth: area.width - 1)
            }
            return
        }
        let selected = SagaModel.selectedItem(state)
        var y = area.y
        var remaining = area.height

        // Tiny screens: the state and the compact history only.
        if remaining < 10 || area.width < 40 {
            if !layout.bordered || remaining < 10 {
                let head = "\(t.state.label) \(stepCount(t))"
                buffer.put(head, x: area.x, y: y, style: theme.style(SagaModel.role(t.state)), maxWidth: area.width)
                y += 1; remaining -= 1
            }
            history(t, selected: selected, state: state, in: Rect(x: area.x, y: y, width: area.width, height: remaining),
                    header: false, into: &buffer, theme: theme)
            return
        }

        // 1. State and steps.
        stepsLine(t, state: state, in: Rect(x: area.x, y: y, width: area.width, height: 1), into: &buffer, theme: theme)
        y += 1; remaining -= 1

        // 2. The waterfall: an axis line and a row per service.
        let waterfallRows = min(t.rows.count, max(2, (remaining * 2) / 5 - 1))
        let waterfall = waterfallTimeline(t, selected: selected, rows: waterfallRows, width: area.width)
        waterfall.render(in: Rect(x: area.x, y: y, width: area.width, height: 1 + waterfallRows), into: &buffer, theme: theme)
        y += 1 + waterfallRows; remaining -= 1 + waterfallRows
        if t.rows.count > waterfallRows {
            buffer.put("+\(t.rows.count - waterfallRows) more rows", x: area.maxX - 16, y: y - 1, style: theme.style(.textDim), maxWidth: 16)
        }

        // 3. Compact history and 4. detail share the rest.
        // The history takes what its items need (up to half); the detail pane gets the rest.
        let historyHeight = max(2, min(t.items.count + 1, (remaining - 2) / 2))
        divider("\(t.items.filter { $0.kind != .span }.count) events · \(t.items.filter { $0.kind == .span }.count) spans",
                y: y, layout: layout, area: area, into: &buffer, theme: theme)
        y += 1; remaining -= 1
        history(t, selected: selected, state: state, in: Rect(x: area.x, y: y, width: area.width, height: historyHeight),
                header: true, into: &buffer, theme: theme)
        y += historyHeight; remaining -= historyHeight
        guard remaining >= 2, let item = selected else { return }
        let lines = SagaModel.detailLines(item, timeline: t, state: state)
        let height = remaining - 1
        let scroll = max(0, min(state.sagas.detailScroll, lines.count - height))
        let more = lines.count > height ? " \(min(lines.count, scroll + height))/\(lines.count) lines · J/K scroll" : ""
        divider("detail" + more, y: y, layout: layout, area: area, into: &buffer, theme: theme)
        y += 1
        for (i, line) in lines.dropFirst(scroll).prefix(height).enumerated() {
            buffer.put(line.text, x: area.x, y: y + i, style: theme.style(line.role ?? .text), maxWidth: area.width)
        }
    }

    static func stepCount(_ t: SagaTimeline) -> String {
        t.hasDefinition ? "\(t.stepsDone)/\(t.steps.count) steps" : "\(t.steps.count) events"
    }

    /// `COMPENSATED  ↺ place-order  ✗ authorize-payment  · reserve-inventory  · ship`.
    static func stepsLine(_ t: SagaTimeline, state: AppState, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        var x = area.x
        x += buffer.put(t.state.label, x: x, y: area.y, style: theme.style(SagaModel.role(t.state)), maxWidth: area.maxX - x)
        if t.state == .timedOut, let timeout = t.timeoutSeconds {
            x += buffer.put(" (> \(NumberFormat.preciseDuration(timeout)))", x: x, y: area.y, style: theme.style(.textDim), maxWidth: area.maxX - x)
        }
        x += 2
        let steps = t.hasDefinition ? t.steps : []
        for (i, step) in steps.enumerated() where x < area.maxX {
            if i > 0 { x += 2 }
            x += buffer.put(SagaModel.stepGlyph(step.status) + " ", x: x, y: area.y, style: theme.style(SagaModel.role(step.status)), maxWidth: area.maxX - x)
            x += buffer.put(step.name, x: x, y: area.y, style: theme.style(step.status == .pending ? .textDim : .text), maxWidth: area.maxX - x)
        }
        if steps.isEmpty {
            // A saga known only from spans has no event names to infer from: say what the state rests on.
            let basis = t.items.contains { $0.kind != .span } ? "state inferred from event names (no saga definition matches)"
                : "state from span status only (no records carry this ID)"
            buffer.put(basis, x: x, y: area.y, style: theme.style(.textDim), maxWidth: area.maxX - x)
        }
    }

    /// The waterfall of the first `rows` rows.
    static func waterfallTimeline(_ t: SagaTimeline, selected: SagaItem?, rows: Int, width: Int) -> Timeline {
        let origin = t.startNanos
        func seconds(_ n: Int64) -> Double { Double(n.subtractingSaturating(origin)) / 1e9 }
        let shown = Array(t.rows.prefix(rows))
        var byRow: [String: Timeline.Row] = [:]
        for name in shown { byRow[name] = Timeline.Row(title: name) }
        for item in t.items where byRow[item.row] != nil {
            let isSelected = item.id == selected?.id
            if item.kind == .span {
                byRow[item.row]?.bars.append(Timeline.Bar(start: seconds(item.startNanos), end: seconds(item.endNanos),
                                                          role: SagaModel.role(item), isSelected: isSelected))
            } else {
                byRow[item.row]?.markers.append(Timeline.Marker(at: seconds(item.startNanos), glyph: SagaModel.marker(item),
                                                                label: item.label, role: SagaModel.role(item), isSelected: isSelected))
            }
        }
        let titleWidth = min(max(8, width / 4), shown.map { TextWidth.of($0) }.max() ?? 8)
        return Timeline(rows: shown.compactMap { byRow[$0] }, span: seconds(t.endNanos), titleWidth: titleWidth)
    }

    /// Temporal's compact history: one line per item, the selection highlighted.
    static func history(_ t: SagaTimeline, selected: SagaItem?, state: AppState, in area: Rect, header: Bool,
                        into buffer: inout ScreenBuffer, theme: Theme) {
        guard !area.isEmpty else { return }
        let items = t.items
        let columns: [TableColumn] = [
            TableColumn("AT", width: .fixed(9), alignment: .right, priority: 100),
            TableColumn("", width: .fixed(1), priority: 99),
            TableColumn("EVENT / SPAN", width: .flexible(min: 14, weight: 2), priority: 98),
            TableColumn("SERVICE", width: .flexible(min: min(20, max(12, t.rows.map { TextWidth.of($0) }.max() ?? 12)), weight: 1), priority: 80),
            TableColumn("WHERE", width: .flexible(min: 16, weight: 1), priority: 60),
            TableColumn("STEP", width: .flexible(min: 16, weight: 1), priority: 40),
        ]
        let index = selected.flatMap { s in items.firstIndex { $0.id == s.id } } ?? max(0, items.count - 1)
        let start = t.startNanos
        var table = Table(columns: columns, rowCount: items.count) { i in
            let item = items[i]
            let role = SagaModel.role(item)
            let whereText: String
            if let r = item.record { whereText = "\(r.topic) p\(r.partition)@\(NumberFormat.grouped(r.offset))" }
            else if let s = item.span { whereText = NumberFormat.preciseDuration(Double(s.durationNanos) / 1e9) + " " + SagaModel.kindName(s.kind) }
            else { whereText = item.id }
            let stepText: String
            switch item.outcome {
            case .failed: stepText = (item.step.map { $0 + " " } ?? "") + "failed"
            case .compensation: stepText = (item.step.map { $0 + " " } ?? "") + "undone"
            case .deadLettered: stepText = "dead-lettered"
            default: stepText = item.step ?? ""
            }
            return TableRowContent(cells: [
                TableCell(SagaModel.offset(item.startNanos, from: start), role: .textDim),
                TableCell(SagaModel.marker(item), role: role),
                TableCell(item.label, role: role == .sagaEvent ? nil : role),
                TableCell(item.row),
                TableCell(whereText, role: .textDim),
                TableCell(stepText, role: item.outcome == .failed || item.outcome == .compensation ? role : .textDim),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = index
        if header {
            table.scrollOffset = Table.scrollOffset(selected: index, current: 0, visibleRows: max(1, area.height - 1), rowCount: items.count)
            table.render(in: area, into: &buffer, theme: theme)
        } else {
            // No room for a header line: one compact line per item around the selection.
            let first = Table.scrollOffset(selected: index, current: 0, visibleRows: area.height, rowCount: items.count)
            for (line, i) in (first..<min(items.count, first + area.height)).enumerated() {
                let item = items[i]
                let style = i == index ? theme.style(SagaModel.role(item)).patched(with: theme.style(.tableSelected)) : theme.style(SagaModel.role(item))
                buffer.put(TextWidth.padded(SagaModel.marker(item) + " " + item.label, to: area.width), x: area.x, y: area.y + line,
                           style: style, maxWidth: area.width)
            }
        }
    }

    /// `├─ title ───────┤` across the block (or a dim rule without a border).
    static func divider(_ title: String, y: Int, layout: Layout, area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        let border = theme.style(.border)
        if layout.bordered {
            let x0 = layout.content.x, x1 = layout.content.maxX - 1
            buffer.put("├" + String(repeating: "─", count: max(0, x1 - x0 - 1)) + "┤", x: x0, y: y, style: border)
            buffer.put(" " + title + " ", x: x0 + 1, y: y, style: theme.style(.borderTitle), maxWidth: x1 - x0 - 2)
        } else {
            buffer.put(String(repeating: "─", count: area.width), x: area.x, y: y, style: border)
            buffer.put(" " + title + " ", x: area.x + 1, y: y, style: theme.style(.textDim), maxWidth: area.width - 2)
        }
    }
}

/// The timeline as plain text for `evtop saga ID`: the screen's title, steps line and waterfall, drawn by
/// the same code into a buffer `width` columns wide.
public enum SagaText {
    /// Title, steps and waterfall lines (trailing spaces trimmed); the history is printed by the caller.
    public static func header(_ t: SagaTimeline, state: AppState, width: Int) -> [String] {
        let theme = Theme.fallback
        var title = "\(t.correlationID) · \(t.sagaType ?? "saga") · \(t.state.label)"
        if !t.items.isEmpty {
            title += " · \(SagaModel.clock(nanos: t.startNanos, state)) · \(NumberFormat.preciseDuration(t.durationSeconds)) · \(t.services.count) service\(t.services.count == 1 ? "" : "s")"
        }
        let height = 2 + t.rows.count + 1
        var buffer = ScreenBuffer(width: max(40, width), height: height)
        SagaTimelineScreen.stepsLine(t, state: state, in: Rect(x: 0, y: 0, width: buffer.width, height: 1), into: &buffer, theme: theme)
        let waterfall = SagaTimelineScreen.waterfallTimeline(t, selected: nil, rows: t.rows.count, width: buffer.width)
        waterfall.render(in: Rect(x: 0, y: 2, width: buffer.width, height: 1 + t.rows.count), into: &buffer, theme: theme)
        let body = buffer.plainText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return [TextWidth.sanitized(title)] + body
    }
}
