import Foundation
import EventModel
import Dashboard
import TerminalUI

/// `evtop topics`: the topics table, as text or JSON.
public enum TopicsReport {
    /// Prints topics with partitions and totals, and with `interval` > 0 the produce rate measured between
    /// two samples that far apart: one rate, named by the window it was measured over.
    public static func run(source: SourceSelection, json: Bool, interval: Double, filter: String?) async throws {
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        var state = resolved.initialState(source: opened.description, size: Size(width: 120, height: 40), readOnly: true, theme: "default")
        state.topicSort = .name
        state.topicSortDescending = false
        if let filter { state.filters["topics"] = filter }
        var taken: [BrokerSnapshot] = []
        try await opened.snapshots(over: interval, interval: interval) { snapshot in
            Reducer.reduce(&state, .snapshot(snapshot))
            taken.append(snapshot)
        }
        var window: TopicsOutput.Window?
        if interval > 0, let first = taken.first, let second = taken.last, second.time > first.time {
            window = TopicsOutput.Window(first: first, second: second)
        }
        SourceLimitation.report(state.shownLimitation)
        let rows = TopicsModel.rows(state)
        if json {
            print(TerminalSafe.json(try TopicsOutput.json(rows, window: window)))
        } else {
            print(TopicsOutput.table(rows, window: window), terminator: "")
        }
    }
}

/// Text and JSON renderings of topic rows for scripts.
enum TopicsOutput {
    /// Produce rates between two snapshots: each topic's growth over the seconds between them.
    struct Window {
        /// Seconds between the snapshots (what the rate is measured over).
        var seconds: Double
        /// Records per second by topic; a topic in only one snapshot has none.
        var perSecond: [String: Double]
        /// A queue's deliveries and acknowledgements per second, from the broker's counters (RabbitMQ).
        var deliveredPerSecond: [String: Double]
        var acknowledgedPerSecond: [String: Double]

        init(first: BrokerSnapshot, second: BrokerSnapshot) {
            let seconds = second.time.timeIntervalSince(first.time)
            self.seconds = seconds
            let before = Dictionary(first.topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            /// Growth of a counter between the samples, per second; none when either sample lacks it or it went back (a reset).
            func rates(_ counter: (TopicInfo) -> Int64?) -> [String: Double] {
                var out: [String: Double] = [:]
                guard seconds > 0 else { return out }
                for topic in second.topics {
                    guard let old = before[topic.name].flatMap(counter), let now = counter(topic), now >= old else { continue }
                    out[topic.name] = Double(now - old) / seconds
                }
                return out
            }
            perSecond = rates(\.totalWritten)
            deliveredPerSecond = rates { $0.queue?.delivered }
            acknowledgedPerSecond = rates { $0.queue?.acknowledged }
        }

        /// The column title: the window's length, as the dashboard names its windows (`1s/s`, `5s/s`).
        var title: String {
            let whole = seconds.rounded()
            return (abs(seconds - whole) < 0.05 ? String(Int(whole)) : String(format: "%.1f", seconds)) + "s/s"
        }
    }

    struct JSONRow: Encodable {
        var topic: String
        var partitions: Int
        var total: Int64
        var deadLetterQueue: Bool
        /// Records per second over `rateWindowSeconds`; absent without a second sample.
        var ratePerSecond: Double?
        /// The seconds the rate was measured over; absent with `--interval 0`.
        var rateWindowSeconds: Double?
        var groups: Int
        /// What a queue broker says about the queue (RabbitMQ); absent for a log's topic.
        var queue: QueueJSON?
    }

    /// A queue's figures; each absent when the broker did not say.
    struct QueueJSON: Encodable {
        var type: String?
        var state: String?
        var ready: Int64?
        var unacknowledged: Int64?
        var consumers: Int?
        /// 0...1, where the broker measures it.
        var consumerUtilisation: Double?
        /// Deliveries and acknowledgements per second over `rateWindowSeconds`.
        var deliveredPerSecond: Double?
        var acknowledgedPerSecond: Double?
        /// Exchanges bound to the queue.
        var exchanges: [String]
        var arguments: [String: String]
    }

    static func json(_ rows: [TopicRow], window: Window?) throws -> String {
        let out = rows.map { r in
            JSONRow(topic: r.name, partitions: r.partitions, total: r.total, deadLetterQueue: r.isDeadLetter,
                    ratePerSecond: window?.perSecond[r.name].map(ScriptJSON.round2),
                    rateWindowSeconds: window.map { ScriptJSON.round2($0.seconds) }, groups: r.groups,
                    queue: r.queue.map { q in
                        QueueJSON(type: q.type, state: q.state, ready: q.ready, unacknowledged: q.unacknowledged, consumers: q.consumerCount,
                                  consumerUtilisation: q.utilisation.map(ScriptJSON.round2),
                                  deliveredPerSecond: window?.deliveredPerSecond[r.name].map(ScriptJSON.round2),
                                  acknowledgedPerSecond: window?.acknowledgedPerSecond[r.name].map(ScriptJSON.round2),
                                  exchanges: q.sources,
                                  arguments: Dictionary(q.arguments.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
                    })
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ rows: [TopicRow], window: Window?) -> String {
        if rows.contains(where: { $0.queue != nil }) { return queueTable(rows, window: window) }
        let header = ["TOPIC", "PART", "TOTAL"] + (window.map { [$0.title] } ?? []) + ["GROUPS"]
        let body = rows.map { r in
            [TextWidth.sanitized(r.name) + (r.isDeadLetter ? " (DLQ)" : ""), String(r.partitions), NumberFormat.grouped(r.total)]
                + (window.map { [$0.perSecond[r.name].map(NumberFormat.rate) ?? "-"] } ?? []) + [String(r.groups)]
        }
        return TextTable.render(header: header, rows: body, rightAligned: Set(1..<header.count))
    }
}

extension TopicsOutput {
    /// Queues (RabbitMQ): kind, ready and unacknowledged messages, the rates measured over the window, consumers
    /// and the exchanges feeding each.
    static func queueTable(_ rows: [TopicRow], window: Window?) -> String {
        let rateTitles = window.map { w in ["IN", "OUT", "ACK"].map { "\($0) \(w.title)" } } ?? []
        let header = ["QUEUE", "TYPE", "READY", "UNACKED", "TOTAL"] + rateTitles + ["CONSUMERS", "FROM"]
        func count(_ v: Int64?) -> String { v.map(NumberFormat.grouped) ?? "-" }
        func rate(_ v: Double?) -> String { v.map(NumberFormat.rate) ?? "-" }
        let body = rows.map { r in
            let q = r.queue ?? QueueFacts()
            let rates = window.map { w in [rate(w.perSecond[r.name]), rate(w.deliveredPerSecond[r.name]), rate(w.acknowledgedPerSecond[r.name])] } ?? []
            return [TextWidth.sanitized(r.name) + (r.isDeadLetter ? " (DLQ)" : ""), q.type ?? "-", count(q.ready), count(q.unacknowledged),
                    NumberFormat.grouped(r.total)] + rates
                + [q.consumerCount.map(String.init) ?? "-", q.sources.isEmpty ? "-" : TextWidth.sanitized(q.sources.joined(separator: ","))]
        }
        return TextTable.render(header: header, rows: body, rightAligned: Set(2..<(header.count - 1)))
    }
}

/// Plain aligned text tables for non-interactive output.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = header.map(TextWidth.of)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], TextWidth.of(cell)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                TextWidth.padded(c, to: widths[i], alignRight: rightAligned.contains(i))
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}
