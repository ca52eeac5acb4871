import Foundation
import EventModel
import TerminalUI

/// The dead-letter module's registrations: the queues, one queue's letters, one letter.
enum DeadLetterViews {
    static let queues = ViewRegistration(
        name: "dlq", summary: "dead letters", helpSection: "Dead letters", numberKey: "4",
        verbs: ["dlq", "dlt", "deadletters"], form: .fixed(.deadLetters),
        hints: [GlobalKeys.viewsHint, GlobalKeys.filterHint, GlobalKeys.enterHint, GlobalKeys.pauseHint,
                GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in DeadLetterModel.queueRows(state).map(\.topic) },
                                       cursor: { $0.deadLetterQueueCursor }, setCursor: { $0.deadLetterQueueCursor = $1 })),
        drillIn: DrillIn(label: "letters") { state, _ in
            guard let row = Reducer.highlighted(DeadLetterModel.queueRows(state), state.deadLetterQueueCursor, key: \.topic) else { return }
            Reducer.open(&state, .deadLetterList(topic: row.topic))
            state.deadLetterCursor = TableCursor()
        },
        previewsDrillIn: true,
        plannedLoads: DeadLetterModel.plannedLoads,
        render: { state, _, layout, buffer, theme in DeadLetterQueuesScreen.render(state, layout: layout, into: &buffer, theme: theme) })

    static let mark = KeyBinding.pure([.char(" ")], "space", "mark / unmark a letter") { state in
        if case .deadLetterList(let topic) = state.view, RedriveModel.toggleMark(&state, topic: topic) {
            Reducer.moveSelection(&state, by: 1)
        }
    }
    static let requeue = KeyBinding([.char("r")], "r", "requeue marked or this one") { state, _ in
        startRedrive(&state, all: false)
    }
    static let requeueAll = KeyBinding([.char("R")], "R", "requeue all shown") { state, _ in
        startRedrive(&state, all: true)
    }

    /// `r` (marked, else highlighted) and `R` (all the filter shows) in the letter list or detail.
    static func startRedrive(_ state: inout AppState, all: Bool) -> [Effect] {
        let topic: String
        var highlightedLetter: (partition: Int32, offset: Int64)?
        switch state.view {
        case .deadLetterList(let t):
            topic = t
            if let row = Reducer.highlighted(DeadLetterModel.letterRows(state, topic: t), state.deadLetterCursor, key: \.key) {
                highlightedLetter = (row.partition, row.offset)
            }
        case .deadLetterDetail(let t, let partition, let offset):
            topic = t
            highlightedLetter = (partition, offset)
        default:
            return []
        }
        if state.readOnly {
            Reducer.say(&state, "read-only: requeue is disabled (--read-only)", error: true)
            return []
        }
        guard let dialog = RedriveModel.plan(state, topic: topic, all: all, highlighted: all ? nil : highlightedLetter) else {
            Reducer.say(&state, "nothing to requeue: already requeued, or no letters loaded")
            return []
        }
        state.redrive = dialog
        return []
    }

    static let skip = KeyBinding([.char("x")], "x", "skip marked or this one: kept on the DLQ, never requeued (x again un-skips)") { state, _ in
        askToSkip(&state)
        return []
    }
    static let showHandled = KeyBinding.pure([.char("H")], "H", "show / hide letters already requeued or skipped") { state in
        state.showHandledLetters.toggle()
        Reducer.clampCursors(&state)
        Reducer.say(&state, state.showHandledLetters ? "showing requeued and skipped letters" : "hiding requeued and skipped letters")
    }

    /// `x`: asks to skip the marked letters (else the highlighted one); when every one of them is skipped
    /// already, asks to give them back instead. Letters requeued or in a job are left out.
    static func askToSkip(_ state: inout AppState) {
        let topic: String
        var highlighted: String?
        switch state.view {
        case .deadLetterList(let t):
            topic = t
            highlighted = Reducer.highlighted(DeadLetterModel.letterRows(state, topic: t), state.deadLetterCursor, key: \.key)?.key
        case .deadLetterDetail(let t, let partition, let offset):
            topic = t
            highlighted = DeadLetterModel.key(partition: partition, offset: offset)
        default:
            return
        }
        if state.readOnly {
            Reducer.say(&state, "read-only: skip is disabled (--read-only)", error: true)
            return
        }
        if state.lettersAreQueued {
            Reducer.say(&state, "skip works on logs: a queue's letters are found by browsing, and the journal cannot hold one aside", error: true)
            return
        }
        let rows = state.deadLetterRows[topic] ?? []
        let marked = state.marks[topic] ?? []
        let keys: Set<String> = marked.isEmpty ? Set(highlighted.map { [$0] } ?? []) : marked
        let chosen = rows.filter { keys.contains($0.key) }
        guard !chosen.isEmpty else {
            Reducer.say(&state, "no letter to skip")
            return
        }
        let undo = chosen.allSatisfy { $0.state == RedriveItemState.skipped.label }
        let eligible = undo ? chosen : chosen.filter { $0.state == "pending" || $0.state == RedriveItemState.failed.label }
        guard !eligible.isEmpty else {
            Reducer.say(&state, "nothing to skip: \(chosen.count == 1 ? "this letter is" : "these letters are") requeued or in a job")
            return
        }
        let noun = eligible.count == 1 ? "letter" : "letters"
        let what = marked.isEmpty ? "p\(eligible[0].partition)@\(eligible[0].offset)" : "\(eligible.count) marked"
        let left = chosen.count - eligible.count
        var lines = undo
            ? ["Un-skip \(eligible.count) \(noun) of \(topic) (\(what))?", "A requeue may select \(eligible.count == 1 ? "it" : "them") again."]
            : ["Skip \(eligible.count) \(noun) of \(topic) (\(what))?",
               "\(eligible.count == 1 ? "It stays" : "They stay") on the DLQ, marked skipped in the redrive journal;",
               "no requeue moves \(eligible.count == 1 ? "it" : "them") until x un-skips."]
        if left > 0 { lines.append("\(left) requeued or in a job: left as they are.") }
        let positions = eligible.map { RecordPosition(topic: topic, partition: $0.partition, offset: $0.offset) }
        state.confirmation = Confirmation(
            title: undo ? "Un-skip" : "Skip", lines: lines,
            effect: .skipLetters(SkipRequest(topic: topic, positions: positions, timestamps: DeadLetterModel.timestamps(state, topic: topic),
                                             selection: what, undo: undo, allLoaded: DeadLetterModel.positions(state, topic: topic))))
        state.marks[topic] = nil
    }

    static let wrap = KeyBinding.pure([.char("w")], "w", "wrap long lines, or not (then h l scroll sideways)") { state in
        state.deadLetterDetailWrap.toggle()
        state.deadLetterDetailColumn = 0
        state.deadLetterDetailScroll = 0
        Reducer.say(&state, state.deadLetterDetailWrap ? "long lines wrap" : "long lines run on: h l ← → scroll sideways")
    }
    static let sideways = KeyBinding([.char("h"), .left, .char("l"), .right], "h l ← →", "scroll sideways (when lines do not wrap)") { state, key in
        scrollSideways(&state, by: (key == .char("h") || key == .left) ? -8 : 8)
        return []
    }

    /// Moves the unwrapped letter detail sideways, never past the widest line's end.
    static func scrollSideways(_ state: inout AppState, by delta: Int) {
        guard case .deadLetterDetail(let topic, let partition, let offset) = state.view else { return }
        guard !state.deadLetterDetailWrap else {
            Reducer.say(&state, "lines wrap: w turns wrapping off to scroll sideways")
            return
        }
        let width = Layout(size: state.size).tableArea.width
        let widest = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
            .map { DeadLetterModel.detailRows($0, state: state, width: width).map { TextWidth.of($0.text) }.max() ?? 0 } ?? 0
        state.deadLetterDetailColumn = max(0, min(max(0, widest - width), state.deadLetterDetailColumn + delta))
    }

    static let saga = KeyBinding.pure([.char("c")], "c", "dead letter → its saga") { state in
        guard case .deadLetterDetail(let topic, let partition, let offset) = state.view else { return }
        let letter = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
        guard let id = letter.map({ DeadLetterModel.row($0).correlation }), !id.isEmpty else {
            Reducer.say(&state, "this dead letter has no correlation-id header", error: true)
            return
        }
        Reducer.openSaga(&state, id, following: false)
    }

    static let letters = ViewRegistration(
        name: "letters", summary: "one DLQ topic's letters", helpSection: "Dead letters",
        form: .argument(placeholder: "TOPIC") { .deadLetterList(topic: $0) },
        bindings: [mark, requeue, requeueAll, skip, showHandled, HeldRecords.copyPayload, HeldRecords.copyWhole, ExceptionGroupsView.open],
        hints: [GlobalKeys.backHint, GlobalKeys.enterHint, GlobalKeys.filterHint, mark.hint("space", "mark"),
                requeue.hint("r", "requeue").unlessReadOnly, requeueAll.hint("R", "all shown").unlessReadOnly,
                GlobalKeys.helpHint, GlobalKeys.quitHint, ExceptionGroupsView.open.hint("e", "by exception"),
                showHandled.hint("H") { $0.showHandledLetters ? "hide handled" : "show handled" }, skip.hint("x", "skip").unlessReadOnly],
        navigation: .table(TableAccess(keys: { state, view in
            guard case .deadLetterList(let topic) = view else { return [] }
            return DeadLetterModel.letterRows(state, topic: topic).map(\.key)
        }, cursor: { $0.deadLetterCursor }, setCursor: { $0.deadLetterCursor = $1 })),
        drillIn: DrillIn(label: "details") { state, view in
            guard case .deadLetterList(let topic) = view,
                  let row = Reducer.highlighted(DeadLetterModel.letterRows(state, topic: topic), state.deadLetterCursor, key: \.key) else { return }
            Reducer.open(&state, .deadLetterDetail(topic: topic, partition: row.partition, offset: row.offset))
            state.deadLetterDetailScroll = 0
        },
        previewsDrillIn: true,
        plannedLoads: DeadLetterModel.plannedLoads,
        render: { state, view, layout, buffer, theme in
            guard case .deadLetterList(let topic) = view else { return }
            DeadLetterListScreen.render(state, topic: topic, layout: layout, into: &buffer, theme: theme)
        })

    static let letter = ViewRegistration(
        name: "letter", summary: "one dead letter", helpSection: "Dead letters",
        form: .argument(placeholder: "TOPIC/PARTITION/OFFSET") { ViewID.deadLetterDetail(spec: $0) },
        bindings: [requeue, requeueAll, skip, saga, wrap, sideways, HeldRecords.copyPayload, HeldRecords.copyWhole],
        hints: [GlobalKeys.backHint, GlobalKeys.move.hint("j/k", "scroll"), GlobalKeys.page.hint("PgUp/PgDn", "page"),
                requeue.hint("r", "requeue").unlessReadOnly, saga.hint("c", "saga"), GlobalKeys.helpHint, GlobalKeys.quitHint,
                wrap.hint("w") { $0.deadLetterDetailWrap ? "no wrap" : "wrap" }, HeldRecords.copyPayload.hint("y", "copy"),
                skip.hint("x", "skip").unlessReadOnly],
        // A scrolling text, not a table: j/k and paging scroll it, keeping the last page full.
        navigation: .custom(move: { state, view, delta in
            guard case .deadLetterDetail(let topic, let partition, let offset) = view else { return }
            let inner = Layout(size: state.size).tableArea
            let lines = DeadLetterModel.letter(state, topic: topic, partition: partition, offset: offset)
                .map { DeadLetterModel.detailRows($0, state: state, width: inner.width).count } ?? 0
            let page = max(1, inner.height)
            let limit = max(0, lines - page)
            state.deadLetterDetailScroll = max(0, min(limit, state.deadLetterDetailScroll.addingReportingOverflow(delta).partialValue))
        }),
        plannedLoads: DeadLetterModel.plannedLoads,
        render: { state, view, layout, buffer, theme in
            guard case .deadLetterDetail(let topic, let partition, let offset) = view else { return }
            DeadLetterDetailScreen.render(state, topic: topic, partition: partition, offset: offset, layout: layout, into: &buffer, theme: theme)
        })
}

extension ViewID {
    /// The letter a spec argument `TOPIC/PARTITION/OFFSET` names (split from the right: topics hold no `/`).
    static func deadLetterDetail(spec: String) -> ViewID? {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, let partition = Int32(parts[parts.count - 2]), let offset = Int64(parts[parts.count - 1]),
              partition >= 0, offset >= 0 else { return nil }
        let topic = parts.dropLast(2).joined(separator: "/")
        return topic.isEmpty ? nil : .deadLetterDetail(topic: topic, partition: partition, offset: offset)
    }
}
