import Foundation
import EventModel
import TerminalUI

/// Every view, in order: the reducer, the screen, the help overlay, the status line, the `:` command
/// parser and `evtop snapshot --view` all read this list, and nothing else names the views.
///
/// A new view needs, as the insights view (key `5`) has:
/// - `Sources/Dashboard/InsightsModel.swift`: its pure derivations (rows, roles) and, if it keeps any state of
///   its own (cursor, sort), a `ViewStateValue` struct read through `state.viewStates[InsightsState.self]`;
/// - `Sources/Dashboard/InsightsScreen.swift`: its screen, and its registration (`InsightsViews.registration`:
///   name, number key, `:` verbs, form, own key bindings, hints, navigation, drill-in, sort, render) with a
///   `ViewID` of its own, `ViewID.registered(name: "insights", argument: "")`;
/// - `Tests/DashboardTests/InsightsViewTests.swift` and its golden files;
/// - one line in ``all`` below.
/// Nothing else changes: no switch names views, and the help overlay, the status line, number keys, `:`
/// verbs and view specs follow from the registration.
public enum ViewRegistry {
    /// The views, in the order the help overlay lists them.
    public static let all: [ViewRegistration] = [
        TopicsViews.topics, TopicsViews.partitions, TopicsViews.queue, BrokersScreen.registration,
        LagViews.lag, LagViews.group,
        SagaViews.sagas, SagaViews.timeline,
        DeadLetterViews.queues, DeadLetterViews.letters, ExceptionGroupsView.registration, DeadLetterViews.letter,
        InsightsViews.registration,
        MessagesViews.list, MessagesViews.record,
        ContextsScreen.registration,
    ]

    private static let byName: [String: ViewRegistration] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    /// The registration of `view`; a view whose name nothing registered gets one that says so.
    public static func registration(for view: ViewID) -> ViewRegistration {
        byName[view.name] ?? unregistered
    }

    /// The views with a number key, in order (the `1 topics 2 lag …` of the status line).
    public static var numbered: [ViewRegistration] { all.filter { $0.numberKey != nil } }

    /// Every accepted spec form: `topics`, `partitions:TOPIC`, `lag`, `group:GROUP`, … (for error messages and `--help`).
    public static var specForms: [String] { all.map(\.specForm) }

    /// The view a spec names: `topics`, `lag`, `partitions:TOPIC`, `group:GROUP`, `sagas`, `saga:ID`, `dlq`,
    /// `letters:TOPIC`, `letter:TOPIC/PARTITION/OFFSET` (a `:` verb or alias also names its view: `groups`).
    /// `:` commands accept the same with a space: `partitions orders`.
    public static func parse(_ spec: String) throws -> ViewID {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        let separator = trimmed.firstIndex { $0 == ":" || $0 == " " }
        let word = String(separator.map { trimmed[..<$0] } ?? Substring(trimmed)).lowercased()
        let argument = separator.map { String(trimmed[trimmed.index(after: $0)...]).trimmingCharacters(in: .whitespaces) } ?? ""
        let named = all.filter { $0.verbs.contains(word) }
        guard !named.isEmpty else { throw ViewSpecError.unknown(spec) }
        // `saga` alone is the list, `saga ID` a timeline: the argument decides between views sharing a verb.
        guard let registration = named.first(where: { $0.takesArgument == !argument.isEmpty }) else {
            throw ViewSpecError.malformed(spec, expected: named.map(\.specForm))
        }
        guard let view = registration.view(argument: argument) else {
            throw ViewSpecError.malformed(spec, expected: [registration.specForm])
        }
        return view
    }

    /// Stands in for a view no module registered (only `ViewID.registered` can name one): it draws what is
    /// wrong and owns no state, so it never hands a view another's cursor.
    static let unregistered = ViewRegistration(
        name: "", summary: "", helpSection: "", form: .fixed(.topics),
        hints: [GlobalKeys.backHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .custom(move: { _, _, _ in }),
        render: { state, view, layout, buffer, theme in
            let area = layout.frame(Block(title: view.spec), into: &buffer, theme: theme)
            buffer.put("no view is registered as “\(view.name)”", x: area.x + 1, y: area.y, style: theme.style(.statusError),
                       maxWidth: area.width - 1)
        })
}

/// A view spec that names no view.
public enum ViewSpecError: Error, Hashable, CustomStringConvertible {
    /// No view has this name or verb.
    case unknown(String)
    /// A view was named but its argument is missing, extra or malformed; the forms it takes.
    case malformed(String, expected: [String])

    /// `unknown view 'x' (views: topics, lag, partitions:TOPIC, …)`.
    public var description: String {
        switch self {
        case .unknown(let spec):
            return "unknown view '\(spec)' (views: \(ViewRegistry.specForms.joined(separator: ", ")))"
        case .malformed(let spec, let expected):
            return "view '\(spec)' does not fit \(expected.joined(separator: " or "))"
        }
    }
}

/// Keys that work in every view (a view's own binding of the same key comes first), and the `:` commands.
public enum GlobalKeys {
    /// `1`…`9`: the numbered views. (It names no registration: registrations use these bindings, and
    /// static initialisers that read each other would deadlock.)
    static let views = KeyBinding((1...9).map { Key.char(Character(String($0))) }, "1–9", "switch view") { state, key in
        if case .char(let c) = key, let target = ViewRegistry.numbered.first(where: { $0.numberKey == c }),
           case .fixed(let view) = target.form {
            Reducer.switchView(&state, to: view)
        }
        return []
    }
    static let enter = KeyBinding.pure([.enter], "enter", "open the highlighted row") { state in
        ViewRegistry.registration(for: state.view).drillIn?.open(&state, state.view)
    }
    static let back = KeyBinding.pure([.escape], "esc", "clear filter, then back") { Reducer.goBack(&$0) }
    static let move = KeyBinding([.char("j"), .down, .char("k"), .up], "j k ↓ ↑", "next / previous row") { state, key in
        Reducer.moveSelection(&state, by: key == .char("j") || key == .down ? 1 : -1)
        return []
    }
    static let ends = KeyBinding([.char("g"), .home, .char("G"), .end], "g G", "first / last row") { state, key in
        Reducer.moveSelection(&state, by: key == .char("g") || key == .home ? Int.min / 2 : Int.max / 2)
        return []
    }
    static let page = KeyBinding([.pageDown, .ctrl("f"), .pageUp, .ctrl("b")], "PgDn PgUp", "page down / up") { state, key in
        Reducer.moveSelection(&state, by: key == .pageDown || key == .ctrl("f") ? state.visibleTableRows : -state.visibleTableRows)
        return []
    }
    static let filter = KeyBinding.pure([.char("/")], "/", "filter (regex, /!x inverts)") { state in
        state.prompt = Prompt(kind: .filter, text: state.currentFilter)
    }
    static let sort = KeyBinding.pure([.char("s")], "s", "sort by next column") { state in
        guard let sort = ViewRegistry.registration(for: state.view).sort else { return }
        Reducer.say(&state, sort.cycle(&state))
        Reducer.resetCursor(&state)
    }
    static let reverse = KeyBinding.pure([.char("S")], "S", "reverse sort") { state in
        guard let sort = ViewRegistry.registration(for: state.view).sort else { return }
        sort.reverse(&state)
        Reducer.resetCursor(&state)
    }
    static let command = KeyBinding.pure([.char(":")], ":", "command line") { $0.prompt = Prompt(kind: .command) }
    static let pause = KeyBinding.pure([.char("p")], "p", "pause / resume") { state in
        state.paused.toggle()
        Reducer.say(&state, state.paused ? "paused: figures frozen, p resumes" : "resumed")
    }
    static let help = KeyBinding.pure([.char("?")], "?", "this help") { $0.showHelp = true }
    static let quit = KeyBinding.pure([.char("q"), .ctrl("c")], "q", "quit") { $0.shouldQuit = true }

    /// The global table, by help section.
    static let sections: [(title: String, bindings: [KeyBinding])] = [
        ("Views", [views, enter, back]),
        ("Move", [move, ends, page]),
        ("Table", [filter, sort, reverse]),
        ("General", [command, pause, PlaybackModel.keys, help, quit]),
    ]

    /// Every global binding.
    public static let all: [KeyBinding] = sections.flatMap(\.bindings)

    /// `:` commands other than views.
    public static let commands: [CommandBinding] = [
        CommandBinding(verbs: ["theme"], label: ":theme NAME", help: "switch the theme") { state, _, argument in
            guard !argument.isEmpty else {
                Reducer.say(&state, "usage: :theme NAME (theme now: \(state.themeName))", error: true)
                return []
            }
            return [.loadTheme(argument)]
        },
        CommandBinding(verbs: ["follow"], label: ":follow ID", help: "follow a saga") { state, _, argument in
            guard !argument.isEmpty else { Reducer.say(&state, "usage: :follow CORRELATION-ID", error: true); return [] }
            Reducer.openSaga(&state, argument, following: true)
            return [.follow(argument)]
        },
        CommandBinding(verbs: ["ctx", "context", "contexts"], label: ":ctx [NAME]", help: "contexts; switch to NAME") { state, _, argument in
            ContextsModel.command(&state, argument)
        },
        CommandBinding(verbs: ["pause", "resume"], label: ":pause :resume", help: "pause / resume") { state, verb, _ in
            state.paused = verb == "pause"
            return []
        },
        HeldRecords.save,
        MessagesViews.seek,
        RecordingModel.command,
        CommandBinding(verbs: ["help", "h"], label: ":help", help: "this help") { state, _, _ in
            state.showHelp = true
            return []
        },
        CommandBinding(verbs: ["q", "q!", "quit", "exit"], label: ":q", help: "quit") { state, _, _ in
            state.shouldQuit = true
            return []
        },
    ]

    // Status-line hints shared by views.
    /// `1 topics  2 lag …` where there is room; `1–5 views` on a narrow terminal, so the view's own keys keep theirs.
    static let viewsHint = KeyHint(binding: views.label) { state in
        let numbered = ViewRegistry.numbered.compactMap { r in r.numberKey.map { (String($0), r.name) } }
        guard state.size.width < 120, let first = numbered.first, let last = numbered.last else { return numbered }
        return [("\(first.0)–\(last.0)", "views")]
    }
    static let enterHint = KeyHint(binding: enter.label) { state in
        ViewRegistry.registration(for: state.view).drillIn.map { [("enter", $0.labelFor?(state) ?? $0.label)] } ?? []
    }
    static let backHint = back.hint("esc", "back")
    static let filterHint = filter.hint("/", "filter")
    static let sortHint = sort.hint("s", "sort")
    /// `p pause`; on a recording also `[ ] clock`, the keys that move its moment.
    static let pauseHint = KeyHint(binding: pause.label) { state in
        [("p", state.paused ? "resume" : "pause")] + (state.playback != nil ? [("[ ]", "clock")] : [])
    }
    static let helpHint = help.hint("?", "help")
    static let quitHint = quit.hint("q", "quit")
}
