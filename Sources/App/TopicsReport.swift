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
        let first = try await opened.reader.snapshot()
        Reducer.reduce(&state, .snapshot(first))
        var window: TopicsOutput.Window?
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            let second = try await opened.reader.snapshot()
            Reducer.reduce(&state, .snapshot(second))
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

        init(first: BrokerSnapshot, second: BrokerSnapshot) {
            seconds = second.time.timeIntervalSince(first.time)
            let before = Dictionary(first.topics.compactMap { t in t.totalWritten.map { (t.name, $0) } }, uniquingKeysWith: { a, _ in a })
            var rates: [String: Double] = [:]
            if seconds > 0 {
                for topic in second.topics {
                    guard let old = before[topic.name], let now = topic.totalWritten else { continue }
                    rates[topic.name] = Double(max(0, now.subtractingSaturating(old))) / seconds
                }
            }
            perSecond = rates
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
    }

    static func json(_ rows: [TopicRow], window: Window?) throws -> String {
        let out = rows.map {
            JSONRow(topic: $0.name, partitions: $0.partitions, total: $0.total, deadLetterQueue: $0.isDeadLetter,
                    ratePerSecond: window?.perSecond[$0.name].map(ScriptJSON.round2),
                    rateWindowSeconds: window.map { ScriptJSON.round2($0.seconds) }, groups: $0.groups)
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ rows: [TopicRow], window: Window?) -> String {
        let header = ["TOPIC", "PART", "TOTAL"] + (window.map { [$0.title] } ?? []) + ["GROUPS"]
        let body = rows.map { r in
            [TextWidth.sanitized(r.name) + (r.isDeadLetter ? " (DLQ)" : ""), String(r.partitions), NumberFormat.grouped(r.total)]
                + (window.map { [$0.perSecond[r.name].map(NumberFormat.rate) ?? "-"] } ?? []) + [String(r.groups)]
        }
        return TextTable.render(header: header, rows: body, rightAligned: Set(1..<header.count))
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
