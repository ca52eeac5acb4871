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
        var effects = apply(&state, action)
        TopicsModel.refreshCache(&state)
        // Probing looks at every topic: only a new snapshot can bring new ones, not a key.
        if case .snapshot = action { effects += DeadLetterModel.plannedProbes(&state) }
        effects += DeadLetterModel.plannedLoads(&state)
        effects += SagaModel.plannedLoads(&state)
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
            guard !state.paused else { return [] }
            state.now = snapshot.time
            state.meter.record(snapshot)
            state.lagTracker.record(snapshot)
            state.groupLags = state.lagTracker.evaluateAll(now: snapshot.time)
            state.snapshot = snapshot
            if snapshot.topics.isEmpty, state.hint == nil {
                state.hint = "empty store: run `evtop demo`, or attach with --broker"
            } else if !snapshot.topics.isEmpty, state.hint?.hasPrefix("empty store") == true {
                state.hint = nil
            }
        case .sourceFailed(let reason):
            state.connection = .down(reason)
        case .tick(let now):
            state.now = now
            if let m = state.message, m.until <= now { state.message = nil }
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
            dialog.phase = .running(progress)
            state.redrive = dialog
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
        case .sagaLoaded(let timeline, let note):
            // A late answer for a saga no longer open is dropped (the open one's load is still under way).
            guard timeline.correlationID == state.sagas.timelineID else { return [] }
            state.sagas.timelineLoading = false
            let wasNewest = state.sagas.selectedItem == nil || state.sagas.selectedItem == state.sagas.timeline?.items.last?.id
            state.sagas.timeline = timeline
            state.sagas.note = note
            state.sagas.error = nil
            // Following: the selection rides on the newest item unless the user moved it.
            if wasNewest { state.sagas.selectedItem = timeline.items.last?.id }
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
        if state.showHelp {
            // Any key closes help; q still quits.
            state.showHelp = false
            if key == .char("q") { state.shouldQuit = true }
            return []
        }
        switch key {
        case .char("q"), .ctrl("c"):
            state.shouldQuit = true
        case .char("?"):
            state.showHelp = true
        case .char(":"):
            state.prompt = Prompt(kind: .command)
        case .char("/"):
            state.prompt = Prompt(kind: .filter, text: state.currentFilter)
        case .escape:
            goBack(&state)
        case .char("j"), .down:
            moveSelection(&state, by: 1)
        case .char("k"), .up:
            moveSelection(&state, by: -1)
        case .pageDown, .ctrl("f"):
            moveSelection(&state, by: state.visibleTableRows)
        case .pageUp, .ctrl("b"):
            moveSelection(&state, by: -state.visibleTableRows)
        case .char("g"), .home:
            moveSelection(&state, by: Int.min / 2)
        case .char("G"), .end:
            moveSelection(&state, by: Int.max / 2)
        case .enter:
            drillIn(&state)
        case .char("p"):
            state.paused.toggle()
            say(&state, state.paused ? "paused: figures frozen, p resumes" : "resumed")
        case .char("s"):
            cycleSort(&state)
        case .char("S"):
            switch state.view {
            case .topics: state.topicSortDescending.toggle()
            case .lag: state.lagSortDescending.toggle()
            case .sagas: state.sagas.sortDescending.toggle()
            default: break
            }
        case .char("f"):
            if case .sagaTimeline = state.view {
                state.sagas.following.toggle()
                say(&state, state.sagas.following ? "following: the timeline updates as events arrive" : "not following: timeline frozen")
            }
        case .char("J"), .char("K"):
            if case .sagaTimeline = state.view {
                state.sagas.detailScroll = max(0, state.sagas.detailScroll + (key == .char("J") ? 3 : -3))
            }
        case .char("c"):
            if case .deadLetterDetail(let topic, let partition, let offset) = state.view {
                let letter = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
                guard let id = letter.map({ DeadLetterModel.row($0).correlation }), !id.isEmpty else {
                    say(&state, "this dead letter has no correlation-id header", error: true)
                    return []
                }
                openSaga(&state, id, following: false)
            }
        case .char("t"):
            switch state.view {
            case .lag, .groupPartitions:
                state.lagInSeconds.toggle()
                say(&state, state.lagInSeconds ? "lag shown as time behind" : "lag shown in offsets")
            default: break
            }
        case .char(" "):
            if case .deadLetterList(let topic) = state.view, RedriveModel.toggleMark(&state, topic: topic) {
                moveSelection(&state, by: 1)
            }
        case .char("r"), .char("R"):
            return startRedrive(&state, all: key == .char("R"))
        case .char("1"): switchView(&state, to: .topics)
        case .char("2"): switchView(&state, to: .lag)
        case .char("3"): switchView(&state, to: .sagas)
        case .char("4"): switchView(&state, to: .deadLetters)
        default:
            break
        }
        return []
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

    /// Runs a `:` command line.
    public static func runCommand(_ state: inout AppState, _ line: String) -> [Effect] {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first?.lowercased() else { return [] }
        let argument = words.dropFirst().joined(separator: " ")
        switch verb {
        case "q", "q!", "quit", "exit":
            state.shouldQuit = true
        case "topics", "topic", "t":
            switchView(&state, to: .topics)
        case "lag", "groups", "consumers":
            switchView(&state, to: .lag)
        case "sagas", "saga":
            switchView(&state, to: .sagas)
        case "dlq", "dlt", "deadletters":
            switchView(&state, to: .deadLetters)
        case "follow":
            guard !argument.isEmpty else { say(&state, "usage: :follow CORRELATION-ID", error: true); return [] }
            openSaga(&state, argument, following: true)
            return [.follow(argument)]
        case "theme":
            guard !argument.isEmpty else { say(&state, "usage: :theme NAME (theme now: \(state.themeName))", error: true); return [] }
            return [.loadTheme(argument)]
        case "pause":
            state.paused = true
        case "resume":
            state.paused = false
        case "help", "h":
            state.showHelp = true
        default:
            say(&state, "unknown command :\(verb) — try :topics :lag :sagas :dlq :follow ID :theme NAME :q", error: true)
        }
        return []
    }

    // MARK: - Navigation

    private static func switchView(_ state: inout AppState, to view: ViewID) {
        switch view {
        case .topics, .partitions, .lag, .groupPartitions, .sagas, .sagaTimeline, .deadLetters, .deadLetterList, .deadLetterDetail:
            state.backStack = []
            state.view = view
        }
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

    private static func goBack(_ state: inout AppState) {
        if !state.currentFilter.isEmpty {
            state.filters[state.view.name] = nil
            return
        }
        if let previous = state.backStack.popLast() {
            state.view = previous
        }
    }

    private static func drillIn(_ state: inout AppState) {
        switch state.view {
        case .topics:
            guard let row = highlighted(TopicsModel.cachedRows(state), state.topicsCursor, key: \.name) else { return }
            open(&state, .partitions(topic: row.name))
            state.partitionsCursor = TableCursor()
        case .lag:
            guard let row = highlighted(LagModel.rows(state), state.lagCursor, key: \.id) else { return }
            open(&state, .groupPartitions(group: row.id))
            state.groupCursor = TableCursor()
        case .deadLetters:
            guard let row = highlighted(DeadLetterModel.queueRows(state), state.deadLetterQueueCursor, key: \.topic) else { return }
            open(&state, .deadLetterList(topic: row.topic))
            state.deadLetterCursor = TableCursor()
        case .deadLetterList(let topic):
            guard let row = highlighted(DeadLetterModel.letterRows(state, topic: topic), state.deadLetterCursor, key: \.key) else { return }
            open(&state, .deadLetterDetail(topic: topic, partition: row.partition, offset: row.offset))
            state.deadLetterDetailScroll = 0
        case .sagas:
            guard let row = highlighted(SagaModel.rows(state), state.sagas.cursor, key: \.id) else { return }
            openSaga(&state, row.id, following: false)
        default:
            break
        }
    }

    /// `r` (marked, else highlighted) and `R` (all the filter shows) in the letter list or detail.
    private static func startRedrive(_ state: inout AppState, all: Bool) -> [Effect] {
        let topic: String
        var highlightedLetter: (partition: Int32, offset: Int64)?
        switch state.view {
        case .deadLetterList(let t):
            topic = t
            if let row = highlighted(DeadLetterModel.letterRows(state, topic: t), state.deadLetterCursor, key: \.key) {
                highlightedLetter = (row.partition, row.offset)
            }
        case .deadLetterDetail(let t, let partition, let offset):
            topic = t
            highlightedLetter = (partition, offset)
        default:
            return []
        }
        if state.readOnly {
            say(&state, "read-only: requeue is disabled (--read-only)", error: true)
            return []
        }
        guard let dialog = RedriveModel.plan(state, topic: topic, all: all, highlighted: all ? nil : highlightedLetter) else {
            say(&state, "nothing to requeue: already requeued, or no letters loaded")
            return []
        }
        state.redrive = dialog
        return []
    }

    /// The highlighted row: the one the cursor remembers, or the first when it is gone.
    private static func highlighted<Row>(_ rows: [Row], _ cursor: TableCursor, key: (Row) -> String) -> Row? {
        guard !rows.isEmpty else { return nil }
        return rows[selectedIndex(cursor, keys: rows.map(key))]
    }

    /// Shows `view`, with esc leading back to the current one.
    private static func open(_ state: inout AppState, _ view: ViewID) {
        state.backStack.append(state.view)
        state.view = view
    }

    private static func cycleSort(_ state: inout AppState) {
        switch state.view {
        case .topics:
            let all = TopicSortKey.allCases
            let i = all.firstIndex(of: state.topicSort) ?? 0
            state.topicSort = all[(i + 1) % all.count]
            // Names read best ascending, figures descending.
            state.topicSortDescending = state.topicSort != .name
            say(&state, "sorted by \(state.topicSort.title) \(state.topicSortDescending ? "▼" : "▲")")
        case .lag:
            let all = LagSortKey.allCases
            let i = all.firstIndex(of: state.lagSort) ?? 0
            state.lagSort = all[(i + 1) % all.count]
            state.lagSortDescending = state.lagSort != .group
            say(&state, "sorted by \(state.lagSort.title) \(state.lagSortDescending ? "▼" : "▲")")
        case .sagas:
            let all = SagaSortKey.allCases
            let i = all.firstIndex(of: state.sagas.sort) ?? 0
            state.sagas.sort = all[(i + 1) % all.count]
            state.sagas.sortDescending = state.sagas.sort != .id
            say(&state, "sorted by \(state.sagas.sort.title) \(state.sagas.sortDescending ? "▼" : "▲")")
        default:
            break
        }
    }

    // MARK: - Cursor

    /// Keys of the current table's rows, in display order.
    static func rowKeys(_ state: AppState) -> [String] {
        switch state.view {
        case .topics: return TopicsModel.cachedRows(state).map(\.name)
        case .partitions(let topic): return TopicsModel.partitionRows(state, topic: topic).map { String($0.partition) }
        case .lag: return LagModel.rows(state).map(\.id)
        case .groupPartitions(let group): return LagModel.partitionRows(state, group: group).map(LagModel.key)
        case .deadLetters: return DeadLetterModel.queueRows(state).map(\.topic)
        case .deadLetterList(let topic): return DeadLetterModel.letterRows(state, topic: topic).map(\.key)
        case .sagas: return SagaModel.rows(state).map(\.id)
        default: return []
        }
    }

    /// The index of the selected row among `keys` (0 when the key is gone).
    public static func selectedIndex(_ cursor: TableCursor, keys: [String]) -> Int {
        guard let key = cursor.selectedKey, let i = keys.firstIndex(of: key) else { return 0 }
        return i
    }

    private static func moveSelection(_ state: inout AppState, by delta: Int) {
        if case .deadLetterDetail(let topic, let partition, let offset) = state.view {
            scrollDetail(&state, topic: topic, partition: partition, offset: offset, by: delta)
            return
        }
        if case .sagaTimeline = state.view {
            // j/k walk the items in time order; the detail pane follows the selection.
            let keys = SagaModel.itemKeys(state)
            guard !keys.isEmpty else { return }
            let current = SagaModel.selectedItem(state).flatMap { keys.firstIndex(of: $0.id) } ?? keys.count - 1
            let target = max(0, min(keys.count - 1, current.addingReportingOverflow(delta).partialValue))
            if keys[target] != state.sagas.selectedItem { state.sagas.detailScroll = 0 }
            state.sagas.selectedItem = keys[target]
            return
        }
        let keys = rowKeys(state)
        guard !keys.isEmpty else { return }
        var cursor = currentCursor(state)
        let current = selectedIndex(cursor, keys: keys)
        let target = max(0, min(keys.count - 1, current.addingReportingOverflow(delta).partialValue))
        cursor.selectedKey = keys[target]
        cursor.scroll = Table.scrollOffset(selected: target, current: cursor.scroll,
                                           visibleRows: state.visibleTableRows, rowCount: keys.count)
        setCursor(&state, cursor)
    }

    /// Scrolls the letter detail, keeping the last page full.
    private static func scrollDetail(_ state: inout AppState, topic: String, partition: Int32, offset: Int64, by delta: Int) {
        let lines = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
            .map { DeadLetterModel.detailLines($0, state: state).count } ?? 0
        let page = max(1, Layout(size: state.size).inner.height)
        let limit = max(0, lines - page)
        state.deadLetterDetailScroll = max(0, min(limit, state.deadLetterDetailScroll.addingReportingOverflow(delta).partialValue))
    }

    private static func clampCursors(_ state: inout AppState) {
        moveSelection(&state, by: 0)
    }

    private static func resetCursor(_ state: inout AppState) {
        setCursor(&state, TableCursor())
    }

    private static func currentCursor(_ state: AppState) -> TableCursor {
        switch state.view {
        case .partitions: return state.partitionsCursor
        case .lag: return state.lagCursor
        case .groupPartitions: return state.groupCursor
        case .deadLetters: return state.deadLetterQueueCursor
        case .deadLetterList: return state.deadLetterCursor
        case .sagas: return state.sagas.cursor
        default: return state.topicsCursor
        }
    }

    private static func setCursor(_ state: inout AppState, _ cursor: TableCursor) {
        switch state.view {
        case .partitions: state.partitionsCursor = cursor
        case .lag: state.lagCursor = cursor
        case .groupPartitions: state.groupCursor = cursor
        case .deadLetters: state.deadLetterQueueCursor = cursor
        case .deadLetterList: state.deadLetterCursor = cursor
        case .deadLetterDetail, .sagaTimeline: break
        case .sagas: state.sagas.cursor = cursor
        default: state.topicsCursor = cursor
        }
    }

    private static func say(_ state: inout AppState, _ text: String, error: Bool = false) {
        state.message = StatusMessage(text, level: error ? .error : .info, until: state.now.addingTimeInterval(messageSeconds))
    }
}
