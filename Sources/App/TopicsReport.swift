import Foundation
import EventModel
import Dashboard
import TerminalUI

/// `evtop topics`: the topics table, as text or JSON.
public enum TopicsReport {
    /// Prints topics with partitions, totals and produce rates sampled `interval` seconds apart.
    public static func run(source: SourceSelection, json: Bool, interval: Double, filter: String?) async throws {
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        var state = resolved.initialState(source: opened.description, size: Size(width: 120, height: 40), readOnly: true, theme: "default")
        state.topicSort = .name
        state.topicSortDescending = false
        if let filter { state.filters["topics"] = filter }
        state = try await Sampling.sampledState(log: opened.reader, interval: interval, state: state)
        let rows = TopicsModel.rows(state)
        if json {
            print(TerminalSafe.json(try TopicsOutput.json(rows)))
        } else {
            print(TopicsOutput.table(rows), terminator: "")
        }
    }
}

/// Text and JSON renderings of topic rows for scripts.
enum TopicsOutput {
    struct JSONRow: Encodable {
        var topic: String
        var partitions: Int
        var total: Int64
        var deadLetterQueue: Bool
        var rate1s: Double?
        var rate10s: Double?
        var rate60s: Double?
        var groups: Int
    }

    static func json(_ rows: [TopicRow]) throws -> String {
        let out = rows.map {
            JSONRow(topic: $0.name, partitions: $0.partitions, total: $0.total, deadLetterQueue: $0.isDeadLetter,
                    rate1s: $0.rates.perSecond1.map(ScriptJSON.round2), rate10s: $0.rates.perSecond10.map(ScriptJSON.round2),
                    rate60s: $0.rates.perSecond60.map(ScriptJSON.round2), groups: $0.groups)
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ rows: [TopicRow]) -> String {
        let header = ["TOPIC", "PART", "TOTAL", "1s/s", "10s/s", "60s/s", "GROUPS"]
        let body = rows.map { r in
            [TextWidth.sanitized(r.name) + (r.isDeadLetter ? " (DLQ)" : ""), String(r.partitions), NumberFormat.grouped(r.total),
             r.rates.perSecond1.map(NumberFormat.rate) ?? "-", r.rates.perSecond10.map(NumberFormat.rate) ?? "-",
             r.rates.perSecond60.map(NumberFormat.rate) ?? "-", String(r.groups)]
        }
        return TextTable.render(header: header, rows: body, rightAligned: [1, 2, 3, 4, 5, 6])
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
