import Foundation
import EventModel
import Dashboard
import TerminalUI

/// `evtop lag`: consumer-group health for scripts and monitoring, with a status exit code.
public enum LagReport {
    /// Samples every `interval` seconds for `window` seconds, prints the groups, and returns the exit
    /// status: 0 every group OK, 1 some WARN, 2 any STALL/STOP/REWIND/ERR, 3 evtop could not evaluate (or some group is UNKNOWN and none worse).
    public static func run(source: SourceSelection, group: String?, json: Bool, window: Double, interval: Double) async throws -> Int32 {
        let groups: [GroupLag]
        do {
            groups = try await evaluate(source: source, group: group, window: window, interval: interval)
        } catch {
            FileHandle.standardError.write(Data("Error: \(TerminalSafe.text(error))\n".utf8))
            return 3
        }
        if json {
            print(TerminalSafe.json(try LagOutput.json(groups)))
        } else {
            print(LagOutput.table(groups), terminator: "")
        }
        return LagOutput.exitCode(groups)
    }

    private static func evaluate(source: SourceSelection, group: String?, window: Double, interval: Double) async throws -> [GroupLag] {
        var source = source
        if let group { source.groups.append(group) }
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        var state = resolved.initialState(source: opened.description, size: Size(width: 120, height: 40), readOnly: true, theme: "default")
        let deadline = Date().addingTimeInterval(window)
        repeat {
            Reducer.reduce(&state, .snapshot(try await opened.reader.snapshot()))
            if Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        } while true
        state.lagSort = .group
        state.lagSortDescending = false
        var rows = LagModel.rows(state)
        if let group {
            rows = rows.filter { $0.id == group }
            guard !rows.isEmpty else {
                let known = state.groupLags.map(\.id).joined(separator: ", ")
                throw OperatorError("no consumer group '\(group)' with committed offsets" + (known.isEmpty ? "" : " (known: \(known))"))
            }
        }
        return rows
    }
}

/// Text and JSON renderings of group lag for scripts.
enum LagOutput {
    /// 0 all OK, 1 some WARN, 2 any STALL/STOP/REWIND/ERR, 3 some group could not be evaluated
    /// (UNKNOWN: the broker does not report what a rule needs) and none is worse than OK.
    static func exitCode(_ groups: [GroupLag]) -> Int32 {
        let worst = groups.map(\.status).max() ?? .ok
        switch worst {
        case .ok: return 0
        case .unknown: return 3
        case .warn: return 1
        default: return 2
        }
    }

    struct JSONPartition: Encodable {
        var topic: String
        var partition: Int32
        /// "offsets" (high − committed) or "reported" (the broker's pending count).
        var basis: String
        var committed: Int64?
        /// Absent for a partition without positions (a queue known by its depth).
        var high: Int64?
        /// Absent when the broker does not report it.
        var lag: Int64?
        /// The broker's figures for a reported partition (absent for offsets).
        var acknowledged: Int64?
        var inFlight: Int64?
        var status: String
        var secondsBehind: Double?
        var lastCommitAgeSeconds: Double?
    }

    struct JSONGroup: Encodable {
        var group: String
        var status: String
        var state: String
        var members: Int
        var topics: [String]
        /// Absent when no partition's lag is known; a lower bound when `lagUnknownPartitions` > 0.
        var totalLag: Int64?
        var maxLag: Int64?
        var totalLagIsLowerBound: Bool
        var lagUnknownPartitions: Int
        var secondsBehind: Double?
        var trend: String
        /// Absent when the trend is unknown.
        var trendPerSecond: Double?
        var catchUpSeconds: Double?
        var partitions: [JSONPartition]
    }

    static func json(_ groups: [GroupLag]) throws -> String {
        let out = groups.map { g -> JSONGroup in
            let (trend, rate): (String, Double?) = {
                switch g.trend {
                case .growing(let r): return ("growing", r)
                case .shrinking(let r): return ("shrinking", -r)
                case .steady: return ("steady", 0)
                case .unknown: return ("unknown", nil)
                }
            }()
            return JSONGroup(
                group: g.id, status: g.status.description, state: g.state, members: g.members, topics: g.topics,
                totalLag: g.totalLag, maxLag: g.maxLag, totalLagIsLowerBound: g.totalLagIsLowerBound,
                lagUnknownPartitions: g.lagUnknownPartitions, secondsBehind: g.secondsBehind.map(ScriptJSON.round2),
                trend: trend, trendPerSecond: rate.map(ScriptJSON.round2), catchUpSeconds: g.catchUpSeconds.map(ScriptJSON.round2),
                partitions: g.partitions.map {
                    JSONPartition(topic: $0.topic, partition: $0.partition, basis: $0.basis == .reported ? "reported" : "offsets",
                                  committed: $0.committed, high: $0.high, lag: $0.lag,
                                  acknowledged: $0.reported?.acknowledged, inFlight: $0.reported?.inFlight,
                                  status: $0.status.description, secondsBehind: $0.secondsBehind.map(ScriptJSON.round2),
                                  lastCommitAgeSeconds: $0.lastCommitAgeSeconds.map(ScriptJSON.round2))
                })
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ groups: [GroupLag]) -> String {
        let header = ["GROUP", "STATUS", "MEMBERS", "TOTAL LAG", "MAX LAG", "BEHIND", "TREND", "CATCH-UP", "TOPICS"]
        let rows = groups.map { g in
            [TextWidth.sanitized(g.id), g.status.description, String(g.members),
             LagModel.lag(g.totalLag, lowerBound: g.totalLagIsLowerBound),
             LagModel.lag(g.maxLag, lowerBound: g.totalLagIsLowerBound), LagModel.behind(g),
             LagModel.trend(g.trend), LagModel.catchUp(g), TextWidth.sanitized(g.topics.joined(separator: ","))]
        }
        return TextTable.render(header: header, rows: rows, rightAligned: [2, 3, 4, 5, 7])
    }
}
