import Foundation
import EventModel
import TerminalUI

/// The lag module's registrations: consumer groups, and one group's partitions.
enum LagViews {
    /// `t`: lag in offsets or as time behind (both lag views).
    static let toggleSeconds = KeyBinding.pure([.char("t")], "t", "lag: offsets ↔ time behind") { state in
        state.lagInSeconds.toggle()
        Reducer.say(&state, state.lagInSeconds ? "lag shown as time behind" : "lag shown in offsets")
    }
    static let secondsHint = toggleSeconds.hint("t") { $0.lagInSeconds ? "offsets" : "seconds" }

    static let lag = ViewRegistration(
        name: "lag", summary: "consumer lag", helpSection: "Lag", numberKey: "2",
        verbs: ["lag", "groups", "consumers"], form: .fixed(.lag), bindings: [toggleSeconds, ChartWindow.cycle],
        hints: [GlobalKeys.viewsHint, GlobalKeys.filterHint, GlobalKeys.enterHint, GlobalKeys.sortHint, secondsHint,
                GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in LagModel.rows(state).map(\.id) },
                                       cursor: { $0.lagCursor }, setCursor: { $0.lagCursor = $1 })),
        drillIn: DrillIn(label: "partitions") { state, _ in
            guard let row = Reducer.highlighted(LagModel.rows(state), state.lagCursor, key: \.id) else { return }
            Reducer.open(&state, .groupPartitions(group: row.id))
            state.groupCursor = TableCursor()
        },
        sort: SortControl(cycle: { state in
            state.lagSort = Reducer.next(state.lagSort)
            state.lagSortDescending = state.lagSort != .group
            return "sorted by \(state.lagSort.title) \(state.lagSortDescending ? "▼" : "▲")"
        }, reverse: { $0.lagSortDescending.toggle() }),
        previewsDrillIn: true,
        render: { state, _, layout, buffer, theme in LagScreen.render(state, layout: layout, into: &buffer, theme: theme) })

    static let group = ViewRegistration(
        name: "group", summary: "one group's partitions", helpSection: "Lag",
        form: .argument(placeholder: "GROUP") { .groupPartitions(group: $0) }, bindings: [toggleSeconds],
        hints: [GlobalKeys.backHint, GlobalKeys.filterHint, secondsHint, GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, view in
            guard case .groupPartitions(let group) = view else { return [] }
            return LagModel.partitionRows(state, group: group).map(LagModel.key)
        }, cursor: { $0.groupCursor }, setCursor: { $0.groupCursor = $1 })),
        render: { state, view, layout, buffer, theme in
            guard case .groupPartitions(let group) = view else { return }
            GroupPartitionsScreen.render(state, group: group, layout: layout, into: &buffer, theme: theme)
        })
}
