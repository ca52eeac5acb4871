import Foundation
import EventModel
import TerminalUI

/// One key binding: the keys it handles, how the help overlay lists it, and what it does.
/// Key handling, the status-line hints and the help overlay all read these, so they cannot drift.
public struct KeyBinding: Sendable {
    /// The keys handled.
    public var keys: [Key]
    /// The key column of the help overlay, e.g. `j k ↓ ↑` (also how a hint names its binding).
    public var label: String
    /// What the help overlay says it does.
    public var help: String
    /// Applies the key; returns what the run loop must do.
    public var run: @Sendable (inout AppState, Key) -> [Effect]

    /// Creates a binding.
    public init(_ keys: [Key], _ label: String, _ help: String, run: @escaping @Sendable (inout AppState, Key) -> [Effect]) {
        self.keys = keys
        self.label = label
        self.help = help
        self.run = run
    }

    /// A binding whose action never asks the run loop for anything.
    public static func pure(_ keys: [Key], _ label: String, _ help: String,
                            _ apply: @escaping @Sendable (inout AppState) -> Void) -> KeyBinding {
        KeyBinding(keys, label, help) { state, _ in apply(&state); return [] }
    }

    /// A status-line hint for this binding with a fixed text.
    public func hint(_ key: String, _ text: String) -> KeyHint {
        KeyHint(binding: label) { _ in [(key, text)] }
    }

    /// A status-line hint for this binding whose text depends on the state (`p pause` / `p resume`).
    public func hint(_ key: String, _ text: @escaping @Sendable (AppState) -> String) -> KeyHint {
        KeyHint(binding: label) { state in [(key, text(state))] }
    }
}

/// One or more key hints of the status line, made from a binding (``KeyBinding/hint(_:_:)-(String,String)``),
/// so that the status line only ever names keys that the view or the global table handles.
public struct KeyHint: Sendable {
    /// The label of the binding it names (a test checks the binding is the view's or global).
    public var binding: String
    /// The hints shown: key and what it does now.
    public var items: @Sendable (AppState) -> [(key: String, text: String)]

    /// The same hint, left out under `--read-only` (a key that writes is not offered when it cannot).
    public var unlessReadOnly: KeyHint {
        let items = self.items
        return KeyHint(binding: binding, items: { $0.readOnly ? [] : items($0) })
    }
}

/// A `:` command that is not a view (views bring their own verbs).
public struct CommandBinding: Sendable {
    /// The verbs, the first one canonical (`q`, `quit`, ...).
    public var verbs: [String]
    /// The key column of the help overlay, e.g. `:theme NAME`.
    public var label: String
    /// What the help overlay says it does.
    public var help: String
    /// Runs the command: the state, the verb typed, the rest of the line.
    public var run: @Sendable (inout AppState, String, String) -> [Effect]

    /// Creates a command.
    public init(verbs: [String], label: String, help: String, run: @escaping @Sendable (inout AppState, String, String) -> [Effect]) {
        self.verbs = verbs
        self.label = label
        self.help = help
        self.run = run
    }
}

/// How j/k, paging, g/G and the wheel move in a view.
public enum ViewNavigation: Sendable {
    /// A table with a row cursor: rows keys, and where the cursor lives in the state.
    case table(TableAccess)
    /// No table cursor (a scrolling text, a timeline): the view moves by itself; a filter resets nothing.
    case custom(move: @Sendable (inout AppState, ViewID, Int) -> Void)
}

/// A table's rows and cursor, as the reducer moves them.
public struct TableAccess: Sendable {
    /// Keys of the rows, in display order.
    public var keys: @Sendable (AppState, ViewID) -> [String]
    /// The view's cursor.
    public var cursor: @Sendable (AppState) -> TableCursor
    /// Stores the view's cursor.
    public var setCursor: @Sendable (inout AppState, TableCursor) -> Void

    /// Creates a table access.
    public init(keys: @escaping @Sendable (AppState, ViewID) -> [String], cursor: @escaping @Sendable (AppState) -> TableCursor,
                setCursor: @escaping @Sendable (inout AppState, TableCursor) -> Void) {
        self.keys = keys
        self.cursor = cursor
        self.setCursor = setCursor
    }
}

/// What `enter` opens from a view.
public struct DrillIn: Sendable {
    /// The status-line hint: `enter partitions`.
    public var label: String
    /// The hint when it depends on what the view shows (a queue rather than a topic's partitions).
    public var labelFor: (@Sendable (AppState) -> String)? = nil
    /// Opens it (the highlighted row's drill-down).
    public var open: @Sendable (inout AppState, ViewID) -> Void
}

/// `s` and `S` in a sortable view.
public struct SortControl: Sendable {
    /// Moves to the next sort column; returns the message to show (`sorted by lag ▼`).
    public var cycle: @Sendable (inout AppState) -> String
    /// Reverses the sort.
    public var reverse: @Sendable (inout AppState) -> Void
}

/// How a view is named by `evtop snapshot --view` and by `:` commands.
public enum ViewForm: Sendable {
    /// Always the same view: `topics`.
    case fixed(ViewID)
    /// A view of one thing: `partitions:TOPIC`; builds the view from the argument (nil: malformed).
    case argument(placeholder: String, make: @Sendable (String) -> ViewID?)
}

/// Everything the reducer, the screen, the help overlay, the status line and the `:` parser need to know
/// about one view. A view module is its model, its screen and its registrations; ``ViewRegistry`` lists them.
public struct ViewRegistration: Sendable {
    /// The view's name: its spec (`partitions:orders`), its filter key, `ViewID.name`.
    public var name: String
    /// One line for the help overlay (`consumer lag`).
    public var summary: String
    /// The help overlay section its own bindings go in (views of one module share one).
    public var helpSection: String
    /// The number key that switches to it, for top-level views.
    public var numberKey: Character?
    /// `:` verbs and aliases (the name first).
    public var verbs: [String]
    /// How specs and `:` commands name it.
    public var form: ViewForm
    /// Its own keys, looked up before the global table.
    public var bindings: [KeyBinding]
    /// The status line, in order (made from its or the global bindings).
    public var hints: [KeyHint]
    /// How it moves.
    public var navigation: ViewNavigation
    /// What `enter` opens, if anything.
    public var drillIn: DrillIn?
    /// Sorting, if the view sorts.
    public var sort: SortControl?
    /// On wide terminals, what `enter` would open is shown beside the view, for the highlighted row.
    public var previewsDrillIn = false
    /// Loads the view needs now (called after every action while it shows; records what it asked for).
    public var plannedLoads: (@Sendable (inout AppState) -> [Effect])?
    /// Draws the view into the content area.
    public var render: @Sendable (AppState, ViewID, Layout, inout ScreenBuffer, Theme) -> Void

    /// Creates a registration.
    public init(name: String, summary: String, helpSection: String, numberKey: Character? = nil, verbs: [String] = [],
                form: ViewForm, bindings: [KeyBinding] = [], hints: [KeyHint], navigation: ViewNavigation,
                drillIn: DrillIn? = nil, sort: SortControl? = nil, previewsDrillIn: Bool = false,
                plannedLoads: (@Sendable (inout AppState) -> [Effect])? = nil,
                render: @escaping @Sendable (AppState, ViewID, Layout, inout ScreenBuffer, Theme) -> Void) {
        self.name = name
        self.summary = summary
        self.helpSection = helpSection
        self.numberKey = numberKey
        self.verbs = verbs.isEmpty ? [name] : verbs
        self.form = form
        self.bindings = bindings
        self.hints = hints
        self.navigation = navigation
        self.drillIn = drillIn
        self.sort = sort
        self.previewsDrillIn = previewsDrillIn
        self.plannedLoads = plannedLoads
        self.render = render
    }

    /// The spec form: `topics`, `partitions:TOPIC`.
    public var specForm: String {
        switch form {
        case .fixed: return name
        case .argument(let placeholder, _): return name + ":" + placeholder
        }
    }

    /// True when the view is of one thing (a topic, a group, ...).
    public var takesArgument: Bool {
        if case .argument = form { return true }
        return false
    }

    /// The view for `argument` ("" for a fixed view); nil when the argument does not fit.
    public func view(argument: String) -> ViewID? {
        switch form {
        case .fixed(let view): return argument.isEmpty ? view : nil
        case .argument(_, let make): return argument.isEmpty ? nil : make(argument)
        }
    }

    /// The binding of this view or of the global table that handles `key`.
    func binding(for key: Key) -> KeyBinding? {
        bindings.first { $0.keys.contains(key) } ?? GlobalKeys.all.first { $0.keys.contains(key) }
    }
}
