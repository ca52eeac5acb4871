import Foundation
import EventModel
import TerminalUI

/// One exception among a DLQ's letters: how many, how many still waiting, and when.
public struct ExceptionGroup: Sendable, Hashable {
    /// The exception's class (or, without one, the first word of its message).
    public var name: String
    /// Letters that failed with it.
    public var letters: Int
    /// Of those, letters not requeued yet.
    public var pending: Int
    /// Its newest and oldest failure time, where the letters carry one.
    public var newestMillis: Int64?
    public var oldestMillis: Int64?
    /// The message of its newest letter.
    public var sample: String
}

/// `e` in a DLQ's letters: the letters grouped by exception, most frequent first. `enter` goes back to the
/// letters filtered to that exception, so `R` then requeues exactly that group.
enum ExceptionGroupsView {
    /// The groups of a DLQ's loaded letters (every one, whatever the letters filter): pure.
    static func groups(_ rows: [DeadLetterRow]) -> [ExceptionGroup] {
        var byName: [String: ExceptionGroup] = [:]
        for r in rows {
            let name = r.exceptionClass ?? String(r.exception.prefix { $0 != " " && $0 != ":" })
            var g = byName[name] ?? ExceptionGroup(name: name.isEmpty ? "–" : name, letters: 0, pending: 0, sample: r.exception)
            g.letters += 1
            if r.state == "pending" { g.pending += 1 }
            if let t = r.failedAtMillis {
                if t >= (g.newestMillis ?? .min) { g.newestMillis = t; g.sample = r.exception }
                g.oldestMillis = min(g.oldestMillis ?? t, t)
            }
            byName[name] = g
        }
        return byName.values.sorted { a, b in a.letters != b.letters ? a.letters > b.letters : a.name < b.name }
    }

    static func render(_ state: AppState, topic: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let rows = groups(state.deadLetterRows[topic] ?? [])
        let letters = rows.reduce(0) { $0 + $1.letters }
        let block = Block(title: "\(topic) · \(rows.count) exception\(rows.count == 1 ? "" : "s") over \(NumberFormat.grouped(Int64(letters))) letters",
                          rightTitle: "enter: its letters · esc back")
        let area = layout.frame(block, into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard !rows.isEmpty else {
            buffer.put(state.deadLetterRows[topic] == nil ? "loading dead letters…" : "no dead letters on \(topic)",
                       x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let columns: [TableColumn] = [
            TableColumn("EXCEPTION", width: .flexible(min: 20, weight: 2), priority: 100),
            TableColumn("LETTERS", width: .fixed(7), alignment: .right, priority: 95),
            TableColumn("PENDING", width: .fixed(7), alignment: .right, priority: 90),
            TableColumn("NEWEST", width: .fixed(11), alignment: .right, priority: 80),
            TableColumn("OLDEST", width: .fixed(11), alignment: .right, priority: 60),
            TableColumn("NEWEST MESSAGE", width: .flexible(min: 20, weight: 3), priority: 70),
        ]
        let cursor = state.viewStates[ExceptionGroupsState.self].cursor
        let selected = Reducer.selectedIndex(cursor, keys: rows.map(\.name))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        let now = state.now
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let g = rows[i]
            return TableRowContent(cells: [
                TableCell(g.name, cutsInTheMiddle: true),
                TableCell(NumberFormat.grouped(Int64(g.letters))),
                TableCell(NumberFormat.grouped(Int64(g.pending)), role: g.pending > 0 ? .dlqMarker : .rateZero),
                TableCell(g.newestMillis.map { DeadLetterModel.age($0, now: now) } ?? "–"),
                TableCell(g.oldestMillis.map { DeadLetterModel.age($0, now: now) } ?? "–", role: .textDim),
                TableCell(g.sample, role: .textDim),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: cursor.scroll, visibleRows: max(0, area.height - 1), rowCount: rows.count)
        table.render(in: area, into: &buffer, theme: theme)
    }

    /// `e` in the letters: open the groups.
    static let open = KeyBinding.pure([.char("e")], "e", "group the letters by exception") { state in
        guard case .deadLetterList(let topic) = state.view else { return }
        Reducer.open(&state, .registered(name: "exceptions", argument: topic))
        state.viewStates[ExceptionGroupsState.self] = ExceptionGroupsState()
    }

    static let registration = ViewRegistration(
        name: "exceptions", summary: "one DLQ's letters grouped by exception", helpSection: "Dead letters",
        form: .argument(placeholder: "TOPIC") { $0.isEmpty ? nil : .registered(name: "exceptions", argument: $0) },
        hints: [GlobalKeys.backHint, GlobalKeys.enterHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, view in
            guard case .registered(_, let topic) = view else { return [] }
            return groups(state.deadLetterRows[topic] ?? []).map(\.name)
        }, cursor: { $0.viewStates[ExceptionGroupsState.self].cursor },
           setCursor: { state, cursor in state.viewStates[ExceptionGroupsState.self] = ExceptionGroupsState(cursor: cursor) })),
        // Back to the letters, filtered to the group: what `R` requeues is then exactly that group.
        drillIn: DrillIn(label: "its letters") { state, view in
            guard case .registered(_, let topic) = view,
                  let group = Reducer.highlighted(groups(state.deadLetterRows[topic] ?? []),
                                                  state.viewStates[ExceptionGroupsState.self].cursor, key: \.name) else { return }
            Reducer.goBack(&state)
            // Whole words: the TimeoutException group must not take SocketTimeoutException's letters too.
            state.filters[ViewID.deadLetterList(topic: topic).name] = "\\b" + NSRegularExpression.escapedPattern(for: group.name) + "\\b"
            state.deadLetterCursor = TableCursor()
        },
        render: { state, view, layout, buffer, theme in
            guard case .registered(_, let topic) = view else { return }
            render(state, topic: topic, layout: layout, into: &buffer, theme: theme)
        })
}

/// The exception groups' cursor.
struct ExceptionGroupsState: ViewStateValue {
    var cursor = TableCursor()
}
