import Foundation
import EventModel
import TerminalUI

/// The topics module's registrations: the topics table and one topic's partitions.
enum TopicsViews {
    static let topics = ViewRegistration(
        name: "topics", summary: "topics and produce rates", helpSection: "Topics", numberKey: "1",
        verbs: ["topics", "topic", "t"], form: .fixed(.topics), bindings: [ChartWindow.cycle, MessagesViews.openFromTopics],
        hints: [GlobalKeys.viewsHint, GlobalKeys.filterHint, GlobalKeys.enterHint, MessagesViews.openFromTopics.hint("m", "messages"), GlobalKeys.sortHint,
                GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in TopicsModel.cachedRows(state).map(\.name) },
                                       cursor: { $0.topicsCursor }, setCursor: { $0.topicsCursor = $1 })),
        // A queue has one "partition": enter opens what matters about it instead (consumers, arguments, bindings).
        drillIn: DrillIn(label: "partitions", labelFor: { TopicsModel.showsQueues($0) ? "queue" : "partitions" }) { state, _ in
            guard let row = TopicsModel.highlightedRow(state) else { return }
            if row.queue != nil {
                Reducer.open(&state, .queue(row.name))
                state.viewStates[QueueDetailState.self] = QueueDetailState()
                return
            }
            Reducer.open(&state, .partitions(topic: row.name))
            state.partitionsCursor = TableCursor()
        },
        sort: SortControl(cycle: { state in
            state.topicSort = Reducer.next(state.topicSort)
            // A table of queues has no column for some keys: skip them.
            if TopicsModel.showsQueues(state) {
                while state.topicSort.queueColumn == nil { state.topicSort = Reducer.next(state.topicSort) }
            }
            // Names read best ascending, figures descending.
            state.topicSortDescending = state.topicSort != .name
            let title = TopicsModel.showsQueues(state) ? state.topicSort.queueTitle : state.topicSort.title
            return "sorted by \(title) \(state.topicSortDescending ? "▼" : "▲")"
        }, reverse: { $0.topicSortDescending.toggle() }),
        previewsDrillIn: true,
        render: { state, _, layout, buffer, theme in TopicsScreen.render(state, layout: layout, into: &buffer, theme: theme) })

    static let partitions = ViewRegistration(
        name: "partitions", summary: "one topic's partitions", helpSection: "Topics", verbs: ["partitions", "topic"],
        form: .argument(placeholder: "TOPIC") { .partitions(topic: $0) },
        hints: [GlobalKeys.backHint, GlobalKeys.enterHint, GlobalKeys.filterHint, GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, view in
            guard case .partitions(let topic) = view else { return [] }
            return TopicsModel.partitionRows(state, topic: topic).map { String($0.partition) }
        }, cursor: { $0.partitionsCursor }, setCursor: { $0.partitionsCursor = $1 })),
        drillIn: DrillIn(label: "messages") { state, view in
            guard case .partitions(let topic) = view,
                  let row = Reducer.highlighted(TopicsModel.partitionRows(state, topic: topic), state.partitionsCursor, key: { String($0.partition) })
            else { return }
            Reducer.open(&state, MessagesModel.view(topic: topic, partition: row.partition))
        },
        render: { state, view, layout, buffer, theme in
            guard case .partitions(let topic) = view else { return }
            PartitionsScreen.render(state, topic: topic, layout: layout, into: &buffer, theme: theme)
        })

    static let queue = ViewRegistration(
        name: "queue", summary: "one queue: consumers, arguments, bindings", helpSection: "Topics", verbs: ["queue", "q"],
        form: .argument(placeholder: "QUEUE") { $0.isEmpty ? nil : .queue($0) },
        hints: [GlobalKeys.backHint, GlobalKeys.move.hint("j/k", "scroll"), GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .custom(move: { state, view, delta in
            guard case .registered(_, let queue) = view else { return }
            let lines = QueueDetailModel.lines(state, queue: queue).count
            let page = max(1, Layout(size: state.size).inner.height)
            let limit = max(0, lines - page)
            var s = state.viewStates[QueueDetailState.self]
            s.scroll = max(0, min(limit, s.scroll.addingReportingOverflow(delta).partialValue))
            state.viewStates[QueueDetailState.self] = s
        }),
        render: { state, view, layout, buffer, theme in
            guard case .registered(_, let queue) = view else { return }
            QueueDetailScreen.render(state, queue: queue, layout: layout, into: &buffer, theme: theme)
        })
}

extension ViewID {
    /// One queue's detail (RabbitMQ).
    static func queue(_ name: String) -> ViewID { .registered(name: "queue", argument: name) }
}
