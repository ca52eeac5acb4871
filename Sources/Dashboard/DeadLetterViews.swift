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
        form: .argument(placeholder: "TOPIC") { .deadLetterList(topic: $0) }, bindings: [mark, requeue, requeueAll, ExceptionGroupsView.open],
        hints: [GlobalKeys.backHint, GlobalKeys.enterHint, GlobalKeys.filterHint, mark.hint("space", "mark"),
                requeue.hint("r", "requeue").unlessReadOnly, requeueAll.hint("R", "all shown").unlessReadOnly,
                GlobalKeys.helpHint, GlobalKeys.quitHint, ExceptionGroupsView.open.hint("e", "by exception")],
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
        plannedLoads: DeadLetterModel.plannedLoads,
        render: { state, view, layout, buffer, theme in
            guard case .deadLetterList(let topic) = view else { return }
            DeadLetterListScreen.render(state, topic: topic, layout: layout, into: &buffer, theme: theme)
        })

    static let letter = ViewRegistration(
        name: "letter", summary: "one dead letter", helpSection: "Dead letters",
        form: .argument(placeholder: "TOPIC/PARTITION/OFFSET") { ViewID.deadLetterDetail(spec: $0) },
        bindings: [requeue, requeueAll, saga],
        hints: [GlobalKeys.backHint, GlobalKeys.move.hint("j/k", "scroll"), GlobalKeys.page.hint("PgUp/PgDn", "page"),
                requeue.hint("r", "requeue").unlessReadOnly, saga.hint("c", "saga"), GlobalKeys.helpHint, GlobalKeys.quitHint],
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
