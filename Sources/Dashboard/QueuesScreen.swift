import Foundation
import EventModel
import TerminalUI

/// The topics view on a queue broker (RabbitMQ): each queue's kind, ready and unacknowledged messages,
/// publish, delivery and acknowledgement rates, consumers and the exchanges feeding it.
///
/// Rates are measured by evtop from the broker's running counters, over 10 s and 60 s: RabbitMQ refreshes
/// those counters every 5 s by default, so a 1 s rate would only ever read 0 or a burst.
enum QueuesScreen {
    static func render(_ state: AppState, rows: [TopicRow], layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        guard let frame = TopicsScreen.frame(state, rows: rows, noun: "Queues", sortTitle: state.topicSort.queueTitle, sparkPer: 60,
                                             empty: state.currentFilter.isEmpty ? "no queues in this vhost yet" : "no queue matches the filter “\(state.currentFilter)”",
                                             layout: layout, into: &buffer, theme: theme) else { return }
        let (tableArea, selected, scroll, sparkWidth, scale) = (frame.table, frame.selected, frame.scroll, frame.sparkWidth, frame.scale)
        let meter = state.meter
        let columns: [TableColumn] = [
            TableColumn("QUEUE", width: .flexible(min: 18, weight: 2), priority: 100),
            TableColumn("TYPE", width: .fixed(7), priority: 38),
            TableColumn("READY", width: .fixed(9), alignment: .right, priority: 85),
            TableColumn("UNACKED", width: .fixed(7), alignment: .right, priority: 60),
            TableColumn("TOTAL", width: .fixed(9), alignment: .right, priority: 90),
            // Each rate as wide as its title and the sort arrow; the 60 s ones are in the queue's detail.
            TableColumn("IN 10s/s", width: .fixed(9), alignment: .right, priority: 80),
            TableColumn("OUT 10s/s", width: .fixed(10), alignment: .right, priority: 70),
            TableColumn("ACK 10s/s", width: .fixed(10), alignment: .right, priority: 75),
            TableColumn(TopicsScreen.sparkTitle(width: sparkWidth, bucket: state.meter.bucketSeconds, scale: scale), width: .fixed(sparkWidth), priority: 40),
            TableColumn("CONS", width: .fixed(5), alignment: .right, priority: 65),
            TableColumn("FROM", width: .flexible(min: 10, weight: 1), priority: 35),
        ]
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let r = rows[i]
            let q = r.queue ?? QueueFacts()
            let name = TableCell(r.name, role: r.isDeadLetter && r.total > 0 ? .dlqMarker : nil, cutsInTheMiddle: true, badge: r.isDeadLetter ? "  DLQ" : "")
            let consumers = q.consumerCount
            // Messages waiting and nobody consuming: the cell says so before the lag view does.
            let idle = consumers == 0 && (q.ready ?? 0) > 0 && !r.isDeadLetter
            return TableRowContent(cells: [
                name,
                TableCell(q.type ?? "–", role: q.type == nil ? .textDim : nil),
                count(q.ready),
                count(q.unacknowledged),
                TableCell(NumberFormat.grouped(r.total)),
                TopicsScreen.rateCell(r.rates.perSecond10),
                TopicsScreen.rateCell(r.queueRates.delivered.perSecond10),
                TopicsScreen.rateCell(r.queueRates.acknowledged.perSecond10),
                TableCell(Sparkline.string(meter.history(topic: r.name), width: sparkWidth, maxValue: scale), role: .sparkline),
                TableCell(consumers.map(String.init) ?? "–", role: consumers == nil ? .textDim : idle ? .lagWarn : nil),
                TableCell(q.sources.isEmpty ? "–" : q.sources.joined(separator: ", "), role: q.sources.isEmpty ? .textDim : nil),
            ], role: r.isDeadLetter && r.total > 0 ? .dlqRow : nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = scroll
        if let column = state.topicSort.queueColumn { table.sort(byColumnTitled: column, descending: state.topicSortDescending) }
        table.render(in: tableArea, into: &buffer, theme: theme)
    }

    static func count(_ value: Int64?) -> TableCell {
        guard let value else { return TableCell("–", role: .textDim) }
        return TableCell(NumberFormat.grouped(value))
    }
}

/// One queue, opened from the queues table: its figures, consumers, arguments and bindings, and where its
/// dead letters go or come from.
enum QueueDetailScreen {
    static func render(_ state: AppState, queue: String, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let lines = QueueDetailModel.lines(state, queue: queue)
        let inner = layout.bordered ? layout.inner : layout.content
        let height = max(0, inner.height)
        let scroll = max(0, min(state.viewStates[QueueDetailState.self].scroll, lines.count - height))
        let right = lines.count > height ? "\(min(lines.count, scroll + height))/\(lines.count) lines" : SidePane.backTitle(state)
        let kind = TopicsModel.topicInfo(state, name: queue)?.queue?.type.map { " · \($0) queue" } ?? ""
        let area = layout.frame(Block(title: queue + kind, rightTitle: right), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        for (i, line) in lines.dropFirst(scroll).prefix(area.height).enumerated() {
            buffer.put(line.text, x: area.x, y: area.y + i, style: theme.style(line.role ?? .text), maxWidth: area.width)
        }
    }
}

/// Where the queue detail is scrolled to.
struct QueueDetailState: ViewStateValue {
    var scroll = 0
}

/// The queue detail's lines, derived from the snapshot and the meter: pure.
enum QueueDetailModel {
    static func lines(_ state: AppState, queue: String) -> [DetailLine] {
        guard let info = TopicsModel.topicInfo(state, name: queue) else {
            return [DetailLine(state.snapshot == nil ? Screen.noData(state) : "queue \(queue) is gone", role: .textDim)]
        }
        guard let q = info.queue else { return [DetailLine("\(queue) is a log topic, not a queue", role: .textDim)] }
        var out: [DetailLine] = []
        func heading(_ text: String) { out.append(DetailLine(""));  out.append(DetailLine(text, role: .tableHeader)) }
        func dash(_ v: Int64?) -> String { v.map(NumberFormat.grouped) ?? "–" }

        var about = [q.durable.map { $0 ? "durable" : "transient" }, q.state].compactMap { $0 }
        if about.isEmpty { about = ["state unknown"] }
        out.append(DetailLine(" " + about.joined(separator: " · ")))
        out.append(DetailLine(" messages  \(dash(q.ready)) ready · \(dash(q.unacknowledged)) unacked · \(NumberFormat.grouped(info.retained)) total"))

        heading(" RATES            10s/s     60s/s")
        let inRates = state.meter.rates(topic: queue), outRates = state.meter.queueRates(topic: queue)
        func rate(_ v: Double?) -> String { TextWidth.padded(v.map(NumberFormat.rate) ?? "–", to: 9, alignRight: true) }
        for (label, r) in [("published", inRates), ("delivered", outRates.delivered), ("acknowledged", outRates.acknowledged)] {
            out.append(DetailLine("   " + TextWidth.padded(label, to: 13) + rate(r.perSecond10) + " " + rate(r.perSecond60)))
        }
        out.append(DetailLine("   measured by evtop from RabbitMQ's counters, which it refreshes every 5 s", role: .textDim))

        let utilisation = (q.consumerCount ?? 0) == 0 ? "" : q.utilisation.map { " · utilisation \(Int((min(1, max(0, $0.isFinite ? $0 : 0)) * 100).rounded())) %" } ?? ""
        heading(" CONSUMERS  \((q.consumerCount ?? q.consumers?.count).map(String.init) ?? "unknown")\(utilisation)")
        if let consumers = q.consumers {
            if consumers.isEmpty {
                out.append(DetailLine("   none attached" + ((q.ready ?? 0) > 0 ? ": messages wait for nobody" : ""), role: (q.ready ?? 0) > 0 ? .lagWarn : .textDim))
            } else {
                out.append(DetailLine("   " + TextWidth.padded("TAG", to: 34) + "PREFETCH  ACK     ACTIVE  CHANNEL", role: .textDim))
                for c in consumers {
                    let prefetch = c.prefetch.map { $0 == 0 ? "none" : String($0) } ?? "–"
                    let ack = c.acknowledges.map { $0 ? "manual" : "auto" } ?? "–"
                    let active = c.active.map { $0 ? "yes" : "standby" } ?? "–"
                    out.append(DetailLine("   " + TextWidth.padded(HeaderBar.middleTruncated(c.tag, to: 32), to: 34) + TextWidth.padded(prefetch, to: 10)
                                          + TextWidth.padded(ack, to: 8) + TextWidth.padded(active, to: 8) + (c.channel ?? "–")))
                }
            }
        } else {
            out.append(DetailLine("   the broker did not list them", role: .textDim))
        }

        heading(" ARGUMENTS")
        if q.arguments.isEmpty { out.append(DetailLine("   none", role: .textDim)) }
        let width = min(32, (q.arguments.map { $0.name.count }.max() ?? 0) + 2)
        for a in q.arguments { out.append(DetailLine("   " + TextWidth.padded(a.name, to: width) + a.value)) }

        heading(" BINDINGS (exchange → key)")
        if q.bindings.isEmpty { out.append(DetailLine("   only the default exchange (by the queue's name)", role: .textDim)) }
        for b in q.bindings {
            let args = b.arguments.isEmpty ? "" : "  " + b.arguments.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            out.append(DetailLine("   " + b.exchange + " → " + (b.routingKey.isEmpty ? "(any key)" : b.routingKey) + args))
        }

        let flows = deadLetterFlows(queue: queue, in: state.snapshot?.topics ?? [])
        if !flows.to.isEmpty || !flows.from.isEmpty {
            heading(" DEAD LETTERS")
            for target in flows.to { out.append(DetailLine("   go to \(target)")) }
            if !flows.from.isEmpty { out.append(DetailLine("   come from " + flows.from.joined(separator: ", "))) }
        }
        return out
    }

    /// Where a queue's dead letters go (its `x-dead-letter-exchange`, and the queues bound to it), and which
    /// queues send theirs here: from the arguments and bindings of the snapshot, no call to the broker.
    static func deadLetterFlows(queue: String, in topics: [TopicInfo]) -> (to: [String], from: [String]) {
        let queues = topics.compactMap { t in t.queue.map { (t.name, $0) } }
        guard let mine = queues.first(where: { $0.0 == queue })?.1 else { return ([], []) }
        func receivers(of exchange: String, key: String?) -> [String] {
            if exchange.isEmpty { return key.map { [$0] } ?? [] }  // the default exchange routes by queue name
            // As RabbitMQLog finds DLQs: a binding whose key cannot match the letters' key is another flow's
            // (fanout and headers bindings have no key; keys with wildcards may match).
            return queues.filter { q in q.1.bindings.contains { b in
                guard b.exchange == exchange else { return false }
                guard let key, !b.routingKey.isEmpty, !b.routingKey.contains("#"), !b.routingKey.contains("*") else { return true }
                return b.routingKey == key
            } }.map(\.0)
        }
        var to: [String] = []
        if let exchange = mine.argument("x-dead-letter-exchange") {
            let key = mine.argument("x-dead-letter-routing-key")
            let name = exchange.isEmpty ? "the default exchange" : "exchange \(exchange)"
            let into = receivers(of: exchange, key: key).filter { $0 != queue }
            let unknownRoute = exchange.isEmpty && key == nil  // each letter goes by its own routing key
            to.append(name + (key.map { " with key \($0)" } ?? "")
                      + (unknownRoute ? ", by each letter's original routing key"
                         : into.isEmpty ? " (no queue bound: letters are dropped)" : " → " + into.joined(separator: ", ")))
        }
        let from = queues.filter { other in
            guard other.0 != queue, let exchange = other.1.argument("x-dead-letter-exchange") else { return false }
            return receivers(of: exchange, key: other.1.argument("x-dead-letter-routing-key")).contains(queue)
        }.map(\.0)
        return (to, from)
    }
}
