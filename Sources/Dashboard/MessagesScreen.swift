import Foundation
import EventModel
import TerminalUI

/// A topic's (or one partition's) records: newest or oldest first, tailed with `f`, filtered by `/`
/// (a regex over the rows, or a structured filter read from the log), moved with `:seek`.
enum MessagesScreen {
    static func render(_ state: AppState, topic: String, partition: Int32?, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let s = state.viewStates[MessagesState.self]
        let rows = MessagesModel.rows(state)
        var title = topic + (partition.map { " · p\($0)" } ?? "")
        title += s.oldestFirst ? " · oldest first" : " · newest first"
        if s.start != .end { title += " · from \(startText(s.start, state))" }
        var right: String
        if s.following {
            // Positions jumped over on Kafka may be transaction markers or compacted away: "up to".
            right = "● tailing" + (s.skipped > 0 ? " · \(s.skippedIsUpperBound ? "up to " : "")\(NumberFormat.grouped(s.skipped)) skipped (faster than shown)" : "")
        } else {
            right = "\(NumberFormat.grouped(Int64(s.rows.count))) loaded" + (s.rows.count >= MessagesModel.maxRows ? " (window)" : "")
        }
        if let f = s.filterText {
            right = "filter \(f) · \(NumberFormat.grouped(Int64(s.rows.count))) of \(NumberFormat.grouped(Int64(s.scanned))) read"
                + (s.scanning ? " · scanning, esc stops" : "")
        } else if !state.currentFilter.isEmpty {
            right = "\(rows.count)/\(s.rows.count) · filter: \(state.currentFilter)"
        }
        if let error = s.error, !rows.isEmpty {
            // Rows stay; what could not be read next is said where the eye goes.
            right = "cannot read on: \(error)" + (s.following ? " · retrying" : "")
        }
        let area = layout.frame(Block(title: title, rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        if rows.isEmpty {
            let text: String
            if let error = s.error { text = "cannot read \(topic): \(error)" }
            else if !s.started || s.loading && s.rows.isEmpty {
                text = s.filterText != nil && s.scanned > 0
                    ? "no match yet in \(NumberFormat.grouped(Int64(s.scanned))) records read · scanning… (esc stops)" : "reading \(topic)…"
            } else if s.filterText != nil { text = "no record matches \(s.filterText ?? "") in \(NumberFormat.grouped(Int64(s.scanned))) read" }
            else if !state.currentFilter.isEmpty { text = "no loaded record matches “\(state.currentFilter)”" }
            else { text = s.start == .end ? "no records in \(topic)" + (s.following ? " yet: waiting for them to arrive" : "") : "no records from \(startText(s.start, state)) on" }
            buffer.put(text, x: area.x + 1, y: area.y + min(1, area.height - 1), style: theme.style(s.error == nil ? .textDim : .statusError),
                       maxWidth: area.width - 1)
            return
        }
        let multiPartition = partition == nil && Set(rows.map(\.record.partition)).count > 1
        let selected = Reducer.selectedIndex(s.cursor, keys: rows.map(\.key))
        let visible = max(0, area.height - 1)
        let scroll = Table.scrollOffset(selected: selected, current: s.cursor.scroll, visibleRows: visible, rowCount: rows.count)
        // Key, type and correlation columns as wide as what shows needs (capped); the value takes the rest.
        let shown = rows[min(scroll, rows.count)..<min(rows.count, scroll + visible)]
        func fit(_ header: String, _ cap: Int, _ text: (MessageRow) -> String) -> Int {
            min(cap, max(header.count, shown.map { TextWidth.of(text($0)) }.max() ?? 0))
        }
        let offsets = shown.map { multiPartition ? "\($0.record.partition):\($0.record.offset)" : String($0.record.offset) }
        let columns: [TableColumn] = [
            TableColumn(multiPartition ? "P:OFFSET" : "OFFSET", width: .fixed(max(8, offsets.map(\.count).max() ?? 0)), alignment: .right, priority: 100),
            TableColumn("TIME", width: .fixed(12), priority: 90),
            TableColumn("KEY", width: .fixed(fit("KEY", 24) { $0.keyText }), priority: 70),
            TableColumn("EVENT TYPE", width: .fixed(fit("EVENT TYPE", 24) { $0.eventType ?? "–" }), priority: 60),
            TableColumn("CORRELATION", width: .fixed(fit("CORRELATION", 24) { $0.correlationID ?? "–" }), priority: 50),
            TableColumn("VALUE", width: .flexible(min: 16, weight: 1), priority: 80),
        ]
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            return TableRowContent(cells: [
                TableCell(multiPartition ? "\(r.record.partition):\(r.record.offset)" : String(r.record.offset)),
                TableCell(SagaModel.clock(nanos: r.record.timestampMillis.multipliedReportingOverflow(by: 1_000_000).partialValue, state)),
                TableCell(r.keyText, role: r.record.key == nil ? .textDim : nil),
                TableCell(r.eventType ?? "–", role: r.eventType == nil ? .textDim : nil),
                TableCell(r.correlationID.map(TextWidth.sanitized) ?? "–", role: r.correlationID == nil ? .textDim : nil),
                TableCell(r.preview, role: r.record.value == nil ? .textDim : nil),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = scroll
        table.render(in: area, into: &buffer, theme: theme)
    }

    /// `-15m` as typed is gone once parsed: a time shows as a clock (`12:03:00`), the rest as typed.
    static func startText(_ target: SeekTarget, _ state: AppState) -> String {
        if case .time(let ms) = target {
            return Clock.hms(Date(timeIntervalSince1970: Double(ms) / 1000), utcOffsetSeconds: state.utcOffsetSeconds)
        }
        return target.description
    }
}

/// One record in full: position, time, key, what the rules found, headers, payload (JSON pretty-printed,
/// hex with an ASCII column otherwise; Confluent framing named), every byte made inert.
enum MessageDetailScreen {
    static func lines(_ row: MessageRow, state: AppState) -> [DetailLine] {
        let r = row.record
        var lines: [DetailLine] = []
        let time = SagaModel.clock(nanos: r.timestampMillis.multipliedReportingOverflow(by: 1_000_000).partialValue, state)
        lines.append(DetailLine("\(TextWidth.sanitized(r.topic)) p\(r.partition)@\(r.offset) · \(time) · \(r.timestampMillis) ms", role: .tableHeader))
        lines.append(DetailLine("event type   " + (row.eventType.map(TextWidth.sanitized) ?? "– (no rule found one)")))
        lines.append(DetailLine("correlation  " + (row.correlationID.map { TextWidth.sanitized($0) + "   c opens its saga" } ?? "– (no rule found one)")))
        lines.append(DetailLine(""))
        lines.append(DetailLine("Headers (\(r.headers.count))", role: .tableHeader))
        if r.headers.isEmpty { lines.append(DetailLine("  none", role: .textDim)) }
        for h in r.headers {
            let value: String
            if !h.value.contains(0), let text = h.utf8Value {
                let parts = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                value = TextWidth.sanitized(String(parts.first ?? "")) + (parts.count > 1 ? " … (\(parts.count) lines)" : "")
            } else {
                value = DeadLetterModel.hex(h.value.prefix(32)) + (h.value.count > 32 ? " … (\(h.value.count) bytes)" : "")
            }
            lines.append(DetailLine("  \(TextWidth.sanitized(h.name)): \(value)"))
        }
        lines.append(DetailLine(""))
        if let key = r.key {
            lines.append(DetailLine("Key (\(NumberFormat.bytes(Int64(key.count))))", role: .tableHeader))
            if let text = String(validating: key, as: UTF8.self) {
                lines.append(DetailLine("  " + TextWidth.sanitized(text)))
            } else {
                lines.append(DetailLine("  " + DeadLetterModel.hex(key.prefix(64)) + (key.count > 64 ? " …" : "")))
            }
        } else {
            lines.append(DetailLine("Key: none", role: .tableHeader))
        }
        lines.append(DetailLine(""))
        let cut = row.valueBytes.map { $0 > (r.value?.count ?? 0) } ?? false
        if cut, let size = row.valueBytes, let kept = r.value?.count {
            lines.append(DetailLine("the value is \(NumberFormat.bytes(Int64(size))): its first \(NumberFormat.bytes(Int64(kept))) are shown", role: .lagWarn))
        }
        if let value = r.value, let frame = ConfluentFrame(value) {
            lines.append(DetailLine("Confluent wire format: magic byte 0, schema id \(frame.schemaID) (decoding it needs the schema registry)", role: .tableHeader))
            lines += DeadLetterModel.payloadLines(Array(frame.payload), cut: cut)
        } else {
            lines += DeadLetterModel.payloadLines(r.value, cut: cut)
        }
        return lines
    }

    static func render(_ state: AppState, position p: RecordPosition, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let row = MessagesModel.row(state, p)
        let width = layout.tableArea.width
        let all = row.map { lines($0, state: state).flatMap { $0.wrapped(to: width) } } ?? []
        let height = max(0, layout.tableArea.height)
        let scroll = max(0, min(state.viewStates[MessagesState.self].detailScroll, all.count - height))
        let right = all.count <= height ? "esc back" : "\(min(all.count, scroll + height))/\(all.count) lines"
        let area = layout.frame(Block(title: "\(p.topic) p\(p.partition)@\(p.offset)", rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard row != nil else {
            buffer.put("this record is no longer loaded (the window moved on): esc goes back to the list", x: area.x + 1, y: area.y,
                       style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        for (i, line) in all.dropFirst(scroll).prefix(area.height).enumerated() {
            buffer.put(line.text, x: area.x, y: area.y + i, style: theme.style(line.role ?? .text), maxWidth: area.width)
        }
    }
}

/// The messages module's registrations: the list, one record, and `:seek`.
enum MessagesViews {
    static let follow = KeyBinding.pure([.char("f")], "f", "messages: tail (new records as they arrive) / stop") { state in
        state.viewStates[MessagesState.self].following.toggle()
        let on = state.viewStates[MessagesState.self].following
        if on {
            // Tailing shows the newest at the top and reads from the end of what is loaded.
            state.viewStates[MessagesState.self].oldestFirst = false
            state.viewStates[MessagesState.self].skipped = 0
            state.viewStates[MessagesState.self].skippedIsUpperBound = false
            if let first = MessagesModel.rows(state).first { state.viewStates[MessagesState.self].cursor.selectedKey = first.key }
        }
        Reducer.say(&state, on ? "tailing: new records appear at the top" : "tail stopped")
    }

    static let order = KeyBinding.pure([.char("o")], "o", "messages: newest first / oldest first") { state in
        state.viewStates[MessagesState.self].oldestFirst.toggle()
        if state.viewStates[MessagesState.self].oldestFirst { state.viewStates[MessagesState.self].following = false }
        Reducer.say(&state, state.viewStates[MessagesState.self].oldestFirst ? "oldest first" : "newest first")
    }

    static let saga = KeyBinding.pure([.char("c")], "c", "record: open the saga of its correlation ID") { state in
        guard case .registered("message", let argument) = state.view, let p = MessagesModel.recordPosition(argument),
              let row = MessagesModel.row(state, p) else { return }
        guard let id = row.correlationID else {
            Reducer.say(&state, "no correlation ID found in this record (see docs/sagas.md for the rules)", error: true)
            return
        }
        Reducer.openSaga(&state, id, following: false)
    }

    static let list = ViewRegistration(
        name: "messages", summary: "a topic's messages: tail, seek, filter", helpSection: "Messages", verbs: ["messages", "m"],
        form: .argument(placeholder: "TOPIC[@P]") { MessagesModel.scope($0).map { MessagesModel.view(topic: $0.topic, partition: $0.partition) } },
        bindings: [follow, order, HeldRecords.copyPayload, HeldRecords.copyWhole],
        hints: [GlobalKeys.backHint, GlobalKeys.enterHint, follow.hint("f") { $0.viewStates[MessagesState.self].following ? "stop tail" : "tail" },
                order.hint("o") { $0.viewStates[MessagesState.self].oldestFirst ? "newest first" : "oldest first" },
                GlobalKeys.filterHint, GlobalKeys.command.hint(":seek", "offset/time"), HeldRecords.copyPayload.hint("y", "copy"),
                GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in MessagesModel.rows(state).map(\.key) },
                                       cursor: { $0.viewStates[MessagesState.self].cursor },
                                       setCursor: { $0.viewStates[MessagesState.self].cursor = $1 })),
        drillIn: DrillIn(label: "record") { state, _ in
            guard let row = MessagesModel.highlighted(state) else { return }
            state.viewStates[MessagesState.self].detailScroll = 0
            Reducer.open(&state, MessagesModel.recordView(row.record))
        },
        plannedLoads: MessagesModel.plannedLoads,
        render: { state, view, layout, buffer, theme in
            guard case .registered(_, let argument) = view, let scope = MessagesModel.scope(argument) else { return }
            MessagesScreen.render(state, topic: scope.topic, partition: scope.partition, layout: layout, into: &buffer, theme: theme)
        })

    static let record = ViewRegistration(
        name: "message", summary: "one record: headers, key, payload", helpSection: "Messages", verbs: ["message"],
        form: .argument(placeholder: "TOPIC@P/OFFSET") { MessagesModel.recordPosition($0) != nil ? .registered(name: "message", argument: $0) : nil },
        bindings: [saga, HeldRecords.copyPayload, HeldRecords.copyWhole],
        hints: [GlobalKeys.backHint, GlobalKeys.move.hint("j/k", "scroll"), saga.hint("c", "saga"), HeldRecords.copyPayload.hint("y", "copy"),
                GlobalKeys.command.hint(":save", "to a file"), GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .custom(move: { state, view, delta in
            guard case .registered(_, let argument) = view, let p = MessagesModel.recordPosition(argument),
                  let row = MessagesModel.row(state, p) else { return }
            let layout = Layout(size: state.size)
            let count = MessageDetailScreen.lines(row, state: state).flatMap { $0.wrapped(to: layout.inner.width) }.count
            let limit = max(0, count - max(1, layout.inner.height))
            let s = state.viewStates[MessagesState.self].detailScroll
            state.viewStates[MessagesState.self].detailScroll = max(0, min(limit, s.addingReportingOverflow(delta).partialValue))
        }),
        render: { state, view, layout, buffer, theme in
            guard case .registered(_, let argument) = view, let p = MessagesModel.recordPosition(argument) else { return }
            MessageDetailScreen.render(state, position: p, layout: layout, into: &buffer, theme: theme)
        })

    /// `:seek TARGET`.
    static let seek = CommandBinding(verbs: ["seek"], label: ":seek WHERE",
                                     help: "messages: go to beginning, end, an offset, -N, -15m, 12:03 or a date") { state, _, argument in
        guard !argument.trimmingCharacters(in: .whitespaces).isEmpty else {
            Reducer.say(&state, "usage: :seek beginning | end | OFFSET | -N | -15m | 12:03 | 2026-12-03T12:03", error: true)
            return []
        }
        return MessagesModel.seek(&state, argument)
    }

    /// `m` on the topics view: the highlighted topic's messages.
    static let openFromTopics = KeyBinding.pure([.char("m")], "m", "messages of the highlighted topic") { state in
        guard let row = Reducer.highlighted(TopicsModel.cachedRows(state), state.topicsCursor, key: \.name) else { return }
        Reducer.open(&state, MessagesModel.view(topic: row.name, partition: nil))
    }
}
