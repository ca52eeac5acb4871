import Foundation
import EventModel
import TerminalUI

/// The topics module's registrations: the topics table and one topic's partitions.
enum TopicsViews {
    static let topics = ViewRegistration(
        name: "topics", summary: "topics and produce rates", helpSection: "Topics", numberKey: "1",
        verbs: ["topics", "topic", "t"], form: .fixed(.topics),
        hints: [GlobalKeys.viewsHint, GlobalKeys.filterHint, GlobalKeys.enterHint, GlobalKeys.sortHint,
                GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in TopicsModel.cachedRows(state).map(\.name) },
                                       cursor: { $0.topicsCursor }, setCursor: { $0.topicsCursor = $1 })),
        drillIn: DrillIn(label: "partitions") { state, _ in
            guard let row = Reducer.highlighted(TopicsModel.cachedRows(state), state.topicsCursor, key: \.name) else { return }
            Reducer.open(&state, .partitions(topic: row.name))
            state.partitionsCursor = TableCursor()
        },
        sort: SortControl(cycle: { state in
            state.topicSort = Reducer.next(state.topicSort)
            // Names read best ascending, figures descending.
            state.topicSortDescending = state.topicSort != .name
            return "sorted by \(state.topicSort.title) \(state.topicSortDescending ? "▼" : "▲")"
        }, reverse: { $0.topicSortDescending.toggle() }),
        render: { state, _, layout, buffer, theme in TopicsScreen.render(state, layout: layout, into: &buffer, theme: theme) })

    static let partitions = ViewRegistration(
        name: "partitions", summary: "one topic's partitions", helpSection: "Topics", verbs: ["partitions", "topic"],
        form: .argument(placeholder: "TOPIC") { .partitions(topic: $0) },
        hints: [GlobalKeys.backHint, GlobalKeys.filterHint, GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, view in
            guard case .partitions(let topic) = view else { return [] }
            return TopicsModel.partitionRows(state, topic: topic).map { String($0.partition) }
        }, cursor: { $0.partitionsCursor }, setCursor: { $0.partitionsCursor = $1 })),
        render: { state, view, layout, buffer, theme in
            guard case .partitions(let topic) = view else { return }
            PartitionsScreen.render(state, topic: topic, layout: layout, into: &buffer, theme: theme)
        })
}
