import Foundation
import EventModel
import TerminalUI

/// The sagas module's registrations: recent sagas, and one saga's timeline.
enum SagaViews {
    static let sagas = ViewRegistration(
        name: "sagas", summary: "sagas by correlation ID", helpSection: "Sagas", numberKey: "3",
        verbs: ["sagas", "saga"], form: .fixed(.sagas),
        hints: [GlobalKeys.viewsHint, GlobalKeys.filterHint, GlobalKeys.enterHint, GlobalKeys.sortHint,
                GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in SagaModel.rows(state).map(\.id) },
                                       cursor: { $0.sagas.cursor }, setCursor: { $0.sagas.cursor = $1 })),
        drillIn: DrillIn(label: "timeline") { state, _ in
            guard let row = Reducer.highlighted(SagaModel.rows(state), state.sagas.cursor, key: \.id) else { return }
            Reducer.openSaga(&state, row.id, following: false)
        },
        sort: SortControl(cycle: { state in
            state.sagas.sort = Reducer.next(state.sagas.sort)
            state.sagas.sortDescending = state.sagas.sort != .id
            return "sorted by \(state.sagas.sort.title) \(state.sagas.sortDescending ? "▼" : "▲")"
        }, reverse: { $0.sagas.sortDescending.toggle() }),
        plannedLoads: SagaModel.plannedLoads,
        render: { state, _, layout, buffer, theme in SagasScreen.render(state, layout: layout, into: &buffer, theme: theme) })

    static let follow = KeyBinding.pure([.char("f")], "f", "follow: live updates") { state in
        state.sagas.following.toggle()
        Reducer.say(&state, state.sagas.following ? "following: the timeline updates as events arrive" : "not following: timeline frozen")
    }
    static let scrollDetail = KeyBinding([.char("J"), .char("K")], "J K", "scroll the detail pane") { state, key in
        state.sagas.detailScroll = max(0, state.sagas.detailScroll + (key == .char("J") ? 3 : -3))
        return []
    }

    static let timeline = ViewRegistration(
        name: "saga", summary: "one saga's timeline", helpSection: "Saga timeline",
        form: .argument(placeholder: "ID") { .sagaTimeline(id: $0) }, bindings: [follow, scrollDetail],
        hints: [GlobalKeys.backHint, GlobalKeys.move.hint("j/k", "item"), scrollDetail.hint("J/K", "detail"),
                follow.hint("f") { $0.sagas.following ? "unfollow" : "follow" }, GlobalKeys.ends.hint("g/G", "first/last"),
                GlobalKeys.helpHint, GlobalKeys.quitHint],
        // j/k walk the items in time order; the detail pane follows the selection.
        navigation: .custom(move: { state, _, delta in
            let keys = SagaModel.itemKeys(state)
            guard !keys.isEmpty else { return }
            let current = SagaModel.selectedItem(state).flatMap { keys.firstIndex(of: $0.id) } ?? keys.count - 1
            let target = max(0, min(keys.count - 1, current.addingReportingOverflow(delta).partialValue))
            if keys[target] != state.sagas.selectedItem { state.sagas.detailScroll = 0 }
            state.sagas.selectedItem = keys[target]
        }),
        plannedLoads: SagaModel.plannedLoads,
        render: { state, view, layout, buffer, theme in
            guard case .sagaTimeline(let id) = view else { return }
            SagaTimelineScreen.render(state, id: id, layout: layout, into: &buffer, theme: theme)
        })
}
