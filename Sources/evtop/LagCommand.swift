import Foundation
import ArgumentParser
import EventModel
import Dashboard
import TerminalUI

/// `evtop lag`: consumer-group health for scripts and monitoring, with a status exit code.
struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Print consumer-group lag, time behind and Burrow status.",
        discussion: """
        Samples the broker every --interval seconds for --window seconds, then evaluates each \
        group with Burrow's rules. Exit status: 0 every group OK, 1 some group WARN, 2 any group \
        STALL, STOP, REWIND or ERR, 3 evtop could not evaluate (bad source, unknown group).
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Only this group.", valueName: "group"))
    var group: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds to sample before evaluating.", valueName: "seconds"))
    var window: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds between samples.", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard window >= 0, window <= 3600 else { throw ValidationError("--window must be between 0 and 3600 seconds") }
        guard interval >= 0.05, interval <= 60 else { throw ValidationError("--interval must be between 0.05 and 60 seconds") }
    }

    func run() async throws {
        let groups: [GroupLag]
        do {
            groups = try await evaluate()
        } catch {
            FileHandle.standardError.write(Data("Error: \(TextWidth.sanitized(String(describing: error)))\n".utf8))
            throw ExitCode(3)
        }
        if json {
            print(TerminalSafe.json(try LagOutput.json(groups)))
        } else {
            print(LagOutput.table(groups), terminator: "")
        }
        throw ExitCode(LagOutput.exitCode(groups))
    }

    private func evaluate() async throws -> [GroupLag] {
        let resolved = try source.resolve()
        let log = try SourceFactory.open(resolved.url, readOnly: true, create: false,
                                         kafka: source.kafkaOptions(resolved.context, groups: group.map { [$0] } ?? []))
        var state = AppState.initial(source: log.sourceDescription, context: resolved.context,
                                     size: Size(width: 120, height: 40), readOnly: true, theme: "default")
        let deadline = Date().addingTimeInterval(window)
        repeat {
            Reducer.reduce(&state, .snapshot(try await log.snapshot()))
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
    /// 0 all OK, 1 some WARN, 2 any STALL/STOP/REWIND/ERR.
    static func exitCode(_ groups: [GroupLag]) -> Int32 {
        let worst = groups.map(\.status).max() ?? .ok
        switch worst {
        case .ok: return 0
        case .warn: return 1
        default: return 2
        }
    }

    struct JSONPartition: Encodable {
        var topic: String
        var partition: Int32
        var committed: Int64?
        var high: Int64
        var lag: Int64
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
        var totalLag: Int64
        var maxLag: Int64
        var secondsBehind: Double?
        var trend: String
        var trendPerSecond: Double
        var catchUpSeconds: Double?
        var partitions: [JSONPartition]
    }

    static func json(_ groups: [GroupLag]) throws -> String {
        let out = groups.map { g -> JSONGroup in
            let (trend, rate): (String, Double) = {
                switch g.trend {
                case .growing(let r): return ("growing", r)
                case .shrinking(let r): return ("shrinking", -r)
                case .steady: return ("steady", 0)
                }
            }()
            return JSONGroup(
                group: g.id, status: g.status.description, state: g.state, members: g.members, topics: g.topics,
                totalLag: g.totalLag, maxLag: g.maxLag, secondsBehind: g.secondsBehind.map(ScriptJSON.round2),
                trend: trend, trendPerSecond: ScriptJSON.round2(rate), catchUpSeconds: g.catchUpSeconds.map(ScriptJSON.round2),
                partitions: g.partitions.map {
                    JSONPartition(topic: $0.topic, partition: $0.partition, committed: $0.committed, high: $0.high, lag: $0.lag,
                                  status: $0.status.description, secondsBehind: $0.secondsBehind.map(ScriptJSON.round2),
                                  lastCommitAgeSeconds: $0.lastCommitAgeSeconds.map(ScriptJSON.round2))
                })
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ groups: [GroupLag]) -> String {
        let header = ["GROUP", "STATUS", "MEMBERS", "TOTAL LAG", "MAX LAG", "BEHIND", "TREND", "CATCH-UP", "TOPICS"]
        let rows = groups.map { g in
            [TextWidth.sanitized(g.id), g.status.description, String(g.members), NumberFormat.grouped(g.totalLag),
             NumberFormat.grouped(g.maxLag), LagModel.behind(g.secondsBehind, lowerBound: g.secondsBehindIsLowerBound),
             LagModel.trend(g.trend), LagModel.catchUp(g), TextWidth.sanitized(g.topics.joined(separator: ","))]
        }
        return TextTable.render(header: header, rows: rows, rightAligned: [2, 3, 4, 5, 7])
    }
}
