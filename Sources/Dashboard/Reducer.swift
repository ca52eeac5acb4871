import Foundation
import EventModel
import TerminalUI

/// Applies actions to the state. Pure: time comes in through actions, I/O goes out as effects.
public enum Reducer {
    /// How long a status message stays.
    static let messageSeconds: TimeInterval = 4

    /// Applies one action, returning what the run loop must do.
    @discardableResult
    public static func reduce(_ state: inout AppState, _ action: Action) -> [Effect] {
        let (viewBefore, messageBefore) = (state.view, state.message)
        var effects = apply(&state, action)
        // A message said about one view ("following: …") does not follow the operator to the next.
        if state.view != viewBefore, state.message == messageBefore { state.message = nil }
        // Leaving the messages list stops its read in flight (a long filter scan goes no further).
        if state.view != viewBefore { effects += MessagesModel.viewChanged(&state) }
        TopicsModel.refreshCache(&state)
        // Probing looks at every topic: only a new snapshot can bring new ones, not a key.
        if case .snapshot = action { effects += DeadLetterModel.plannedProbes(&state) }
        // Loads the view showing needs now (its letters, its sagas), as its registration says.
        if let plan = ViewRegistry.registration(for: state.view).plannedLoads { effects += plan(&state) }
        return effects
    }

    private static func apply(_ state: inout AppState, _ action: Action) -> [Effect] {
        switch action {
        case .key(let key):
            return handleKey(&state, key)
        case .resize(let size):
            state.size = size
            clampCursors(&state)
        case .scroll(let lines):
            moveSelection(&state, by: lines)
        case .snapshot(let snapshot):
            state.connection = .live
            state.downSince = nil
            guard !state.paused else { return [] }
            state.now = snapshot.time
            state.meter.record(snapshot)
            state.lagTracker.record(snapshot)
            state.groupLags = state.lagTracker.evaluateAll(now: snapshot.time)
            state.snapshot = snapshot
            state.deadLetterTopics.declaredByBroker = snapshot.deadLetterTopics
            InsightsModel.observe(&state, snapshot)
            if let limitation = snapshot.limitation {
                state.hint = limitation
            } else if let hint = state.hint, hint == state.shownLimitation {
                state.hint = nil
            }
            state.shownLimitation = snapshot.limitation
            if snapshot.topics.isEmpty, state.hint == nil {
                state.hint = "empty store: run `evtop demo`, or attach with --broker"
            } else if !snapshot.topics.isEmpty, state.hint?.hasPrefix("empty store") == true {
                state.hint = nil
            }
        case .insightsSampled(let records):
            InsightsModel.ingest(&state, records)
        case .recordTimesRead(let times):
            state.lagTracker.noteRecordTimes(times)
            guard !state.paused else { return [] }
            state.groupLags = state.lagTracker.evaluateAll(now: state.now)
        case .sourceFailed(let reason):
            state.connection = .down(reason)
            if state.downSince == nil { state.downSince = state.now }
        case .tick(let now):
            // A recording's clock stands still between moves; messages still expire by the wall clock.
            state.wallNow = now
            if let m = state.message, m.until <= now { state.message = nil }
            state.now = state.playback?.clock ?? now
        case .playbackMoved(let clock, let snapshots):
            return PlaybackModel.moved(&state, clock: clock, snapshots: snapshots)
        case .recordingUpdated(let elapsed, let finished, let isError):
            RecordingModel.update(&state, elapsed: elapsed, finished: finished, isError: isError)
        case .themeChanged(let name):
            state.themeName = name
            say(&state, "theme: \(name)")
        case .notify(let text, let isError):
            say(&state, text, error: isError)
        case .deadLettersLoaded(let topic, let letters):
            DeadLetterModel.store(&state, topic: topic, letters: letters)
            clampCursors(&state)
            return [.loadRedriveStates(topic: topic, positions: DeadLetterModel.positions(state, topic: topic), timestamps: DeadLetterModel.timestamps(state, topic: topic))]
        case .deadLetterTopicsDetected(let topics):
            state.deadLetterTopics.detectedByHeaders.formUnion(topics)
        case .redriveStatesLoaded(let topic, let states):
            state.redriveStates[topic] = states
            DeadLetterModel.refreshRows(&state, topic: topic)
        case .redriveProgress(let progress):
            guard var dialog = state.redrive, dialog.isRunning else { return [] }
            var before: RedriveProgress?
            if case .running(let p) = dialog.phase { before = p }
            dialog.phase = .running(progress)
            state.redrive = dialog
            // STATE follows the journal while the job runs: re-read it when a batch landed or failed, and
            // when the job starts waiting for the broker (its letters in flight then show as moving).
            let settled = { (p: RedriveProgress?) in (p?.moved ?? 0) + (p?.failed ?? 0) }
            if settled(before) != settled(progress) || (before?.waiting == nil && progress.waiting != nil) {
                let topic = dialog.topic
                return [.loadRedriveStates(topic: topic, positions: DeadLetterModel.positions(state, topic: topic),
                                           timestamps: DeadLetterModel.timestamps(state, topic: topic))]
            }
        case .redriveFinished(let report):
            let topic = state.redrive?.topic
            if var dialog = state.redrive {
                dialog.phase = .finished(report)
                state.redrive = dialog
            } else {
                say(&state, "requeue \(report.jobID): \(report.moved) moved, \(report.failed) failed")
            }
            if let topic { return [.loadRedriveStates(topic: topic, positions: DeadLetterModel.positions(state, topic: topic), timestamps: DeadLetterModel.timestamps(state, topic: topic))] }
        case .redriveFailed(let why):
            if var dialog = state.redrive {
                dialog.phase = .failed(why)
                state.redrive = dialog
            } else {
                say(&state, why, error: true)
            }
        case .sagasLoaded(let rows, let note):
            state.sagas.listLoading = false
            state.sagas.rows = Array(rows.prefix(SagaModel.maxListRows))
            state.sagas.note = note
            state.sagas.error = nil
            clampCursors(&state)
        case .sagaLoaded(let timeline, let note, let indexing):
            // A late answer for a saga no longer open is dropped (the open one's load is still under way).
            guard timeline.correlationID == state.sagas.timelineID else { return [] }
            state.sagas.timelineLoading = false
            let wasNewest = state.sagas.selectedItem == nil || state.sagas.selectedItem == state.sagas.timeline?.items.last?.id
            state.sagas.timeline = timeline
            // Nothing found yet is asked again too: a record that arrived after the indexer's last pass
            // (opened from the messages view a moment after it landed) is indexed within a refresh.
            state.sagas.timelineIncomplete = indexing || timeline.items.isEmpty
            state.sagas.note = note
            state.sagas.error = nil
            // Following: the selection rides on the newest item unless the user moved it.
            if wasNewest { state.sagas.selectedItem = timeline.items.last?.id }
        case .messagesRead(let page):
            MessagesModel.loaded(&state, page)
        case .messagesReadFailed(let serial, let reason):
            MessagesModel.failed(&state, serial: serial, reason)
        case .sagaLoadFailed(let reason):
            state.sagas.listLoading = false
            state.sagas.timelineLoading = false
            state.sagas.error = reason
        }
        return []
    }

    // MARK: - Keys

    private static func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        if state.prompt != nil { return handlePromptKey(&state, key) }
        if state.redrive != nil { return RedriveModel.handleKey(&state, key) }
        if let question = state.confirmation {
            switch key {
            case .char("y"), .char("Y"), .enter:
                state.confirmation = nil
                return [question.effect]
            case .char("n"), .char("N"), .escape, .char("q"):
                state.confirmation = nil
                say(&state, "\(question.title.lowercased()): cancelled")
            default: break
            }
            return []
        }
        if state.showHelp {
            // Moving keys scroll help when it does not fit; any other key closes it; q still quits.
            let room = Layout(size: state.size).content
            let limit = HelpScreen.overlay(state).maxScroll(in: room)
            let page = max(1, room.height - 3)
            let step: Int?
            switch key {
            case .char("j"), .down: step = 1
            case .char("k"), .up: step = -1
            case .pageDown: step = page
            case .pageUp: step = -page
            default: step = nil
            }
            if let step, limit > 0 {
                state.helpScroll = min(limit, max(0, state.helpScroll + step))
                return []
            }
            state.showHelp = false
            state.helpScroll = 0
            if key == .char("q") { state.shouldQuit = true }
            return []
        }
        // The view's own table first, then the global one: the same tables feed the hints and the help.
        guard let binding = ViewRegistry.registration(for: state.view).binding(for: key) else { return [] }
        return binding.run(&state, key)
    }

    private static func handlePromptKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard var prompt = state.prompt else { return [] }
        switch key {
        case .escape:
            state.prompt = nil
            if prompt.kind == .filter { state.filters[state.view.name] = nil }
            return []
        case .enter:
            state.prompt = nil
            if prompt.kind == .redriveTarget {
                RedriveModel.setTarget(&state, prompt.text)
                return []
            }
            if prompt.kind == .filter {
                state.filters[state.view.name] = prompt.text.isEmpty ? nil : prompt.text
                resetCursor(&state)
                return []
            }
            return runCommand(&state, prompt.text)
        case .backspace:
            if prompt.text.isEmpty { state.prompt = nil; return [] }
            prompt.text.removeLast()
        case .ctrl("u"):
            prompt.text = ""
        case .char(let c):
            prompt.text.append(c)
        default:
            return []
        }
        state.prompt = prompt
        // Filters apply as you type, as in k9s.
        if prompt.kind == .filter {
            state.filters[state.view.name] = prompt.text.isEmpty ? nil : prompt.text
            resetCursor(&state)
        }
        return []
    }

    /// Runs a `:` command line: a view (`:lag`, `:partitions orders`, `:letter orders.DLT/0/42`) or a command
    /// (`:theme NAME`, `:follow ID`, `:pause`, `:resume`, `:help`, `:q`).
    public static func runCommand(_ state: inout AppState, _ line: String) -> [Effect] {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else { return [] }
        let verb = first.lowercased()
        let argument = words.dropFirst().joined(separator: " ")
        if let command = GlobalKeys.commands.first(where: { $0.verbs.contains(verb) }) {
            return command.run(&state, verb, argument)
        }
        do {
            switchView(&state, to: try ViewRegistry.parse(line))
        } catch ViewSpecError.unknown {
            let views = ViewRegistry.all.filter { !$0.takesArgument }.map { ":" + $0.name }
            let commands = GlobalKeys.commands.map(\.label)
            say(&state, "unknown command :\(verb) — try \((views + commands).joined(separator: " "))", error: true)
        } catch {
            say(&state, "\(error)", error: true)
        }
        return []
    }

    // MARK: - Navigation

    /// Shows `view` as a new start: esc no longer leads back.
    static func switchView(_ state: inout AppState, to view: ViewID) {
        state.backStack = []
        state.view = view
    }

    /// Opens the timeline of `id` (esc returns to the current view); `following` keeps it live.
    public static func openSaga(_ state: inout AppState, _ id: String, following: Bool) {
        if case .sagaTimeline(let current) = state.view, current == id {
            state.sagas.following = following || state.sagas.following
            return
        }
        open(&state, .sagaTimeline(id: id))
        state.sagas.following = following
    }

    static func goBack(_ state: inout AppState) {
        if !state.currentFilter.isEmpty {
            state.filters[state.view.name] = nil
            return
        }
        if let previous = state.backStack.popLast() {
            state.view = previous
        }
    }

    /// The highlighted row: the one the cursor remembers, or the first when it is gone.
    static func highlighted<Row>(_ rows: [Row], _ cursor: TableCursor, key: (Row) -> String) -> Row? {
        guard !rows.isEmpty else { return nil }
        return rows[selectedIndex(cursor, keys: rows.map(key))]
    }

    /// Shows `view`, with esc leading back to the current one.
    static func open(_ state: inout AppState, _ view: ViewID) {
        state.backStack.append(state.view)
        state.view = view
    }

    /// The case after `value`, wrapping: the sort column `s` moves to.
    static func next<T: CaseIterable & Equatable>(_ value: T) -> T {
        let all = Array(T.allCases)
        let i = all.firstIndex(of: value) ?? 0
        return all[(i + 1) % all.count]
    }

    // MARK: - Cursor

    /// Keys of the current table's rows, in display order (none for a view without a table).
    static func rowKeys(_ state: AppState) -> [String] {
        guard case .table(let table) = ViewRegistry.registration(for: state.view).navigation else { return [] }
        return table.keys(state, state.view)
    }

    /// The index of the selected row among `keys` (0 when the key is gone).
    public static func selectedIndex(_ cursor: TableCursor, keys: [String]) -> Int {
        guard let key = cursor.selectedKey, let i = keys.firstIndex(of: key) else { return 0 }
        return i
    }

    /// Moves the view's selection by `delta` rows (or however its registration moves).
    static func moveSelection(_ state: inout AppState, by delta: Int) {
        let view = state.view
        switch ViewRegistry.registration(for: view).navigation {
        case .custom(let move):
            move(&state, view, delta)
        case .table(let table):
            let keys = table.keys(state, view)
            guard !keys.isEmpty else { return }
            var cursor = table.cursor(state)
            let current = selectedIndex(cursor, keys: keys)
            let target = max(0, min(keys.count - 1, current.addingReportingOverflow(delta).partialValue))
            cursor.selectedKey = keys[target]
            cursor.scroll = Table.scrollOffset(selected: target, current: cursor.scroll,
                                               visibleRows: state.visibleTableRows, rowCount: keys.count)
            table.setCursor(&state, cursor)
        }
    }

    static func clampCursors(_ state: inout AppState) {
        moveSelection(&state, by: 0)
    }

    /// Back to the first row after the filter or the sort changed (a view without a table has no cursor
    /// to reset): the rows now on top are the ones the operator asked to see.
    static func resetCursor(_ state: inout AppState) {
        if case .table(let table) = ViewRegistry.registration(for: state.view).navigation {
            table.setCursor(&state, TableCursor())
        }
    }

    static func say(_ state: inout AppState, _ text: String, error: Bool = false) {
        state.message = StatusMessage(text, level: error ? .error : .info, until: (state.playback == nil ? state.now : state.wallNow).addingTimeInterval(messageSeconds))
    }
}
