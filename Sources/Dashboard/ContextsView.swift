import Foundation
import EventModel
import TerminalUI

/// One context of the config file as the contexts view lists it. The app makes these (the dashboard
/// reads no config): the broker is already shown safely, without credentials or query values.
public struct ContextEntry: Sendable, Hashable {
    /// The context's name (`:ctx NAME`).
    public var name: String
    /// The broker URL as it may be shown (``Secrets/url(_:)``), or what the context falls back to.
    public var broker: String
    /// The kind of source: `embedded store`, `Kafka`, `RabbitMQ`, or `bad URL`.
    public var kind: String
    /// Its other settings in short: `2 properties · 1 saga file · theme light`; "" for none.
    public var settings: String
    /// Why the context cannot be opened as written (a bad URL), shown instead of its settings.
    public var problem: String?
    /// Its settings in full, one a line, for the highlighted context (never a secret: property names only).
    public var details: [ContextDetail]

    /// Creates an entry.
    public init(name: String, broker: String, kind: String, settings: String = "", problem: String? = nil,
                details: [ContextDetail] = []) {
        self.name = name
        self.broker = broker
        self.kind = kind
        self.settings = settings
        self.problem = problem
        self.details = details
    }
}

/// One setting of a context as its detail lists it: `DLQ patterns` `*.DLT, *.DLQ`.
public struct ContextDetail: Sendable, Hashable {
    /// What the setting is.
    public var label: String
    /// Its value, as it may be shown.
    public var value: String

    /// Creates a detail line.
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

/// What the contexts view shows: the config's contexts, which one is in use, and the view's cursor.
/// The app fills it at start and after every switch; the reducer never invents a context.
public struct ContextsState: ViewStateValue {
    /// The config's contexts, in the file's order.
    public var entries: [ContextEntry] = []
    /// The config file, as it may be shown (`~/.config/evtop/config.yaml`); nil when unknown.
    public var configFile: String?
    /// True when the config file exists.
    public var configExists = false
    /// The context in use; nil when the source was named otherwise (`--broker`, or no config).
    public var current: String?
    /// The view's cursor.
    var cursor = TableCursor()

    /// No contexts, none in use.
    public init() {}

    /// The config's contexts; `current` is the one in use.
    public init(entries: [ContextEntry], configFile: String?, configExists: Bool, current: String?) {
        self.entries = entries
        self.configFile = configFile
        self.configExists = configExists
        self.current = current
    }
}

/// Derivations and commands of the contexts view. Pure: the switch itself is the run loop's (an effect).
public enum ContextsModel {
    /// The view's id.
    public static let view = ViewID.registered(name: "ctx", argument: "")

    /// The entries the filter lets through, in the file's order.
    static func rows(_ state: AppState) -> [ContextEntry] {
        let entries = state.viewStates[ContextsState.self].entries
        let filter = RowFilter(state.filters[view.name] ?? "")
        return entries.filter { filter.matches($0.name + " " + $0.broker + " " + $0.kind) }
    }

    /// `:ctx` alone opens the view; `:ctx NAME` switches to NAME.
    static func command(_ state: inout AppState, _ argument: String) -> [Effect] {
        let name = argument.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            if state.view != view { Reducer.open(&state, view) }
            return []
        }
        return switchTo(&state, name)
    }

    /// Asks the run loop to switch to context `name`, or says in the status line why not: no such
    /// context (listing the ones there are), already in use, or a requeue running (it is never torn).
    public static func switchTo(_ state: inout AppState, _ name: String) -> [Effect] {
        let contexts = state.viewStates[ContextsState.self]
        guard !contexts.entries.isEmpty else {
            Reducer.say(&state, "no contexts to switch to: \(contexts.configExists ? "the config file defines none" : "no config file") (see docs/configuration.md)",
                        error: true)
            return []
        }
        guard contexts.entries.contains(where: { $0.name == name }) else {
            Reducer.say(&state, "no context named '\(TextWidth.sanitized(name))' (contexts: \(contexts.entries.map(\.name).joined(separator: ", ")))",
                        error: true)
            return []
        }
        if name == contexts.current {
            Reducer.say(&state, "already on context \(name)")
            return []
        }
        if state.redrive?.isRunning == true {
            Reducer.say(&state, "a requeue is running: let it finish (or esc cancels it after its batch), then switch", error: true)
            return []
        }
        Reducer.say(&state, "switching to context \(name)…")
        return [.switchContext(name)]
    }

    /// `enter`: switch to the highlighted context.
    static let switchBinding = KeyBinding([.enter], "enter", "switch to the highlighted context") { state, _ in
        guard let entry = Reducer.highlighted(rows(state), state.viewStates[ContextsState.self].cursor, key: \.name) else { return [] }
        return switchTo(&state, entry.name)
    }
}

/// `:ctx`: the config's contexts, the one in use marked; `enter` switches without restarting.
enum ContextsScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let contexts = state.viewStates[ContextsState.self]
        let rows = ContextsModel.rows(state)
        var title = rows.count == contexts.entries.count ? "Contexts" : "Contexts \(rows.count)/\(contexts.entries.count)"
        title += contexts.current.map { " · on \($0)" } ?? (contexts.entries.isEmpty ? "" : " · none in use")
        let area = layout.frame(Block(title: title, rightTitle: "enter switch · esc back"), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard !rows.isEmpty else {
            buffer.put(emptyText(contexts, filter: state.currentFilter, width: area.width - 1), x: area.x + 1, y: area.y,
                       style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        // Names and URLs as wide as they are (a URL up to 48 columns, then cut in the middle); the settings
        // take what is left, and go first when nothing is.
        let nameWidth = min(24, max(TextWidth.of("CONTEXT"), rows.map { TextWidth.of($0.name) + 2 }.max() ?? 0))
        let brokerWidth = min(48, max(TextWidth.of("BROKER"), rows.map { TextWidth.of($0.broker) }.max() ?? 0))
        let columns: [TableColumn] = [
            TableColumn("CONTEXT", width: .flexible(min: nameWidth, weight: 0), priority: 100),
            TableColumn("KIND", width: .fixed(14), priority: 60),
            TableColumn("BROKER", width: .flexible(min: brokerWidth, weight: 0), priority: 90),
            TableColumn("SETTINGS", width: .flexible(min: 12, weight: 1), priority: 40),
        ]
        let cursor = contexts.cursor
        let selected = Reducer.selectedIndex(cursor, keys: rows.map(\.name))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let entry = rows[i]
            let isCurrent = entry.name == contexts.current
            return TableRowContent(cells: [
                TableCell((isCurrent ? "● " : "  ") + entry.name, role: isCurrent ? .connectionLive : nil),
                TableCell(entry.kind, role: entry.problem == nil ? nil : .statusError),
                TableCell(entry.broker, cutsInTheMiddle: true),
                entry.problem.map { TableCell($0, role: .statusError) }
                    ?? TableCell(entry.settings.isEmpty ? "–" : entry.settings, role: .textDim),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = selected
        // The table takes the rows it needs; below it, the highlighted context's settings in full.
        let tableHeight = min(area.height, rows.count + 1)
        table.scrollOffset = Table.scrollOffset(selected: selected, current: cursor.scroll, visibleRows: max(0, tableHeight - 1),
                                                rowCount: rows.count)
        table.render(in: Rect(x: area.x, y: area.y, width: area.width, height: tableHeight), into: &buffer, theme: theme)
        let detailArea = Rect(x: area.x, y: area.y + tableHeight + 1, width: area.width, height: area.height - tableHeight - 1)
        if rows.indices.contains(selected), detailArea.height >= 2 {
            renderDetail(rows[selected], isCurrent: rows[selected].name == contexts.current, in: detailArea, into: &buffer, theme: theme)
        }
    }

    /// `staging · embedded store · sqlite:…` then one line a setting, labels aligned.
    static func renderDetail(_ entry: ContextEntry, isCurrent: Bool, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        var lines: [(label: String, value: String, role: Role)] = []
        if let problem = entry.problem { lines.append(("problem", problem, .statusError)) }
        lines += entry.details.map { ($0.label, $0.value, .text) }
        if lines.isEmpty { lines.append(("settings", "none besides the broker: the defaults apply", .textDim)) }
        let title = entry.name + (isCurrent ? " (in use)" : "") + " · " + entry.kind + " · " + entry.broker
        buffer.put(title, x: area.x, y: area.y, style: theme.style(.textAccent), maxWidth: area.width)
        let labelWidth = lines.map { TextWidth.of($0.label) }.max() ?? 0
        let x = area.x + 4 + labelWidth
        let valueWidth = max(0, area.x + area.width - x)
        // Long values (a list of properties) wrap under themselves rather than being cut.
        var rows: [(label: String, value: String, role: Role)] = []
        for line in lines {
            for (i, part) in wrapList(line.value, to: valueWidth).enumerated() {
                rows.append((i == 0 ? line.label : "", part, line.role))
            }
        }
        for (i, row) in rows.enumerated() {
            let y = area.y + 1 + i
            guard y < area.y + area.height else { break }
            if i == area.height - 2, rows.count > area.height - 1 {
                buffer.put("  … \(rows.count - i) more lines", x: area.x, y: y, style: theme.style(.textDim), maxWidth: area.width)
                break
            }
            buffer.put("  " + TextWidth.padded(row.label, to: labelWidth), x: area.x, y: y, style: theme.style(.textDim), maxWidth: area.width)
            buffer.put(row.value, x: x, y: y, style: theme.style(row.role), maxWidth: valueWidth)
        }
    }

    /// A `, `-separated list as rows of at most `width` columns, broken between its items (an item wider
    /// than a row wraps on its own).
    static func wrapList(_ text: String, to width: Int) -> [String] {
        guard width > 8, TextWidth.of(text) > width else { return [text] }
        var rows: [String] = [], current = ""
        for item in text.components(separatedBy: ", ") {
            let piece = current.isEmpty ? item : current + ", " + item
            if TextWidth.of(piece + ",") <= width || current.isEmpty {
                current = piece
                continue
            }
            rows.append(current + ",")
            current = item
        }
        rows.append(current)
        return rows.flatMap { row in DetailLine(row).wrapped(to: width).map(\.text) }
    }

    /// One line: no config file, no contexts in it, or none matching the filter; and where to read how to add one.
    static func emptyText(_ contexts: ContextsState, filter: String, width: Int) -> String {
        if !contexts.entries.isEmpty { return "no context matches the filter “\(filter)”" }
        let file = contexts.configFile ?? "config.yaml"
        let (lead, tail) = contexts.configExists
            ? ("no contexts in ", ": add one as docs/configuration.md shows")
            : ("no config file: add contexts to ", " as docs/configuration.md shows")
        // The path yields its middle first: what to read must stay in sight.
        let room = width - TextWidth.of(lead + tail)
        return lead + (room >= 12 ? TextWidth.middleTruncated(file, to: room) : "it") + tail
    }

    static let registration = ViewRegistration(
        name: "ctx", summary: "the config's contexts; enter switches", helpSection: "Contexts",
        verbs: ["ctx", "context", "contexts"], form: .fixed(ContextsModel.view),
        bindings: [ContextsModel.switchBinding],
        hints: [GlobalKeys.backHint, ContextsModel.switchBinding.hint("enter", "switch"), GlobalKeys.filterHint,
                GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in ContextsModel.rows(state).map(\.name) },
                                       cursor: { $0.viewStates[ContextsState.self].cursor },
                                       setCursor: { state, cursor in state.viewStates[ContextsState.self].cursor = cursor })),
        render: { state, _, layout, buffer, theme in render(state, layout: layout, into: &buffer, theme: theme) })
}
