import Synchronization
import Foundation
import EventModel
import Dashboard
import TerminalUI

/// `evtop lag`: consumer-group health for scripts and monitoring, with a status exit code.
public enum LagReport {
    /// Samples every `interval` seconds for `window` seconds, prints the groups, and returns the exit
    /// status: 0 every group OK, 1 some WARN, 2 any STALL/STOP/REWIND/ERR, 3 evtop could not evaluate (or some group is UNKNOWN and none worse).
    /// `groups`: only these (empty: every group); each must exist.
    public static func run(source: SourceSelection, groups only: [String], json: Bool, window: Double, interval: Double) async throws -> Int32 {
        let groups: [GroupLag]
        do {
            groups = try await evaluate(source: source, groups: only, window: window, interval: interval)
        } catch {
            FileHandle.standardError.write(Data("Error: \(TerminalSafe.text(error))\n".utf8))
            return 3
        }
        if json {
            print(TerminalSafe.json(try LagOutput.json(groups)))
        } else {
            print(LagOutput.table(groups), terminator: "")
        }
        // Nothing to evaluate because the source could not read it is no data, not "all OK".
        if groups.isEmpty, limited.withLock({ $0 }) { return 3 }
        return LagOutput.exitCode(groups)
    }

    /// Set when the last evaluation's source reported a ``BrokerSnapshot/limitation``.
    private static let limited = Mutex(false)

    static func evaluate(source: SourceSelection, groups only: [String], window: Double, interval: Double) async throws -> [GroupLag] {
        var source = source
        source.groups += only
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        var state = resolved.initialState(source: opened.description, size: Size(width: 120, height: 40), readOnly: true, theme: "default")
        try await opened.snapshots(over: window, interval: interval) { Reducer.reduce(&state, .snapshot($0)) }
        SourceLimitation.report(state.shownLimitation)
        limited.withLock { $0 = state.shownLimitation != nil }
        state.lagSort = .group
        state.lagSortDescending = false
        await RecordTimeBehind.apply(&state, reader: opened.reader)
        var rows = LagModel.rows(state)
        if !only.isEmpty {
            rows = rows.filter { only.contains($0.id) }
            if let missing = only.first(where: { name in !rows.contains { $0.id == name } }) {
                let known = state.groupLags.map(\.id).joined(separator: ", ")
                throw OperatorError("no consumer group '\(missing)' with committed offsets" + (known.isEmpty ? "" : " (known: \(known))"))
            }
        }
        return rows
    }
}

/// Reads record times for time lag: the first record at or after an offset was written when the log end
/// stood there, so its timestamp says how far behind a group positioned there is. The one reader, shared by
/// `evtop lag` (which watched only a few seconds of watermarks: it reads every lagging partition once, see
/// ``RecordTimePlan/lagging(_:low:)``) and the dashboard's poller (partitions never committed on, cached in
/// a ``RecordTimeCache``); ``LagTracker/noteRecordTimes(_:)`` turns them into figures.
enum RecordTimeBehind {
    /// One single-record read per entry of `wanted`; entries whose read failed are left out of
    /// `times` and listed in `failed`; a partition with no record there (or no timestamp) in neither.
    static func read(_ wanted: [(TopicPartition, offset: Int64)], reader: any LogReader) async -> (times: [RecordTime], failed: [RecordTime.Key]) {
        var times: [RecordTime] = []
        var failed: [RecordTime.Key] = []
        for (tp, offset) in wanted {
            do {
                guard let first = try await reader.fetch(topic: tp.topic, partition: tp.partition, from: offset, maxRecords: 1).first,
                      first.timestampMillis > 0 else { continue }
                times.append(RecordTime(tp, offset: offset, timestampMillis: first.timestampMillis))
            } catch {
                failed.append(RecordTime.Key(partition: tp, offset: offset))
            }
        }
        return (times, failed)
    }

    /// `evtop lag`: reads the first unread record of every lagging partition and re-evaluates.
    static func apply(_ state: inout AppState, reader: any LogReader) async {
        var low: [TopicPartition: Int64] = [:]
        for t in state.snapshot?.topics ?? [] { for p in t.partitions { low[TopicPartition(t.name, p.partition)] = p.low } }
        let wanted = RecordTimePlan.lagging(state.groupLags, low: low)
        guard !wanted.isEmpty else { return }
        state.lagTracker.noteRecordTimes(await read(wanted, reader: reader).times)
        state.groupLags = state.lagTracker.evaluateAll(now: state.now)
    }
}

/// The dashboard's record reads for time lag: which partitions' oldest retained record was already read
/// (per partition, the low watermark it was read at), so that each is read once, and again only when
/// retention moves the low watermark: per tick, O(partitions) comparisons and no read in the steady state.
final class RecordTimeCache: Sendable {
    private let readAt = Mutex<[TopicPartition: Int64]>([:])

    /// What `snapshot` needs that was not read yet; the reads are done by ``post(_:reader:to:)``.
    func wanted(_ snapshot: BrokerSnapshot) -> [(TopicPartition, offset: Int64)] {
        let plan = RecordTimePlan.uncommitted(snapshot)
        return readAt.withLock { done in
            if done.count > plan.count {
                let live = Set(plan.map(\.0))
                done = done.filter { live.contains($0.key) }
            }
            return plan.filter { done[$0.0] != $0.offset }
        }
    }

    /// Reads what `snapshot` needs (off the UI thread: the poller's task) and posts the times found.
    /// A read that failed is tried again at the next snapshot; one that found nothing is not.
    func post(_ snapshot: BrokerSnapshot, reader: any LogReader, to mailbox: ActionMailbox) async {
        let wanted = wanted(snapshot)
        guard !wanted.isEmpty else { return }
        let (times, failed) = await RecordTimeBehind.read(wanted, reader: reader)
        let retry = Set(failed)
        readAt.withLock { done in
            for (tp, offset) in wanted where !retry.contains(RecordTime.Key(partition: tp, offset: offset)) { done[tp] = offset }
        }
        if !times.isEmpty { mailbox.post(.recordTimesRead(times)) }
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
        /// True when `secondsBehind` is only a lower bound (the real figure may be larger).
        var secondsBehindIsLowerBound: Bool
        var lastCommitAgeSeconds: Double?
        /// True when no commit was seen happen while evtop watched: `lastCommitAgeSeconds` is only how long it watched.
        var lastCommitAgeIsLowerBound: Bool
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
        /// True when `secondsBehind` is only a lower bound (some partition's figure may be larger).
        var secondsBehindIsLowerBound: Bool
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
                case .unsettled: return ("unsettled", nil)
                case .unknown: return ("unknown", nil)
                }
            }()
            return JSONGroup(
                group: g.id, status: g.status.description, state: g.state, members: g.members, topics: g.topics,
                totalLag: g.totalLag, maxLag: g.maxLag, totalLagIsLowerBound: g.totalLagIsLowerBound,
                lagUnknownPartitions: g.lagUnknownPartitions, secondsBehind: g.secondsBehind.map(ScriptJSON.round2),
                secondsBehindIsLowerBound: g.secondsBehindIsLowerBound,
                trend: trend, trendPerSecond: rate.map(ScriptJSON.round2), catchUpSeconds: g.catchUpSeconds.map(ScriptJSON.round2),
                partitions: g.partitions.map {
                    JSONPartition(topic: $0.topic, partition: $0.partition, basis: $0.basis == .reported ? "reported" : "offsets",
                                  committed: $0.committed, high: $0.high, lag: $0.lag,
                                  acknowledged: $0.reported?.acknowledged, inFlight: $0.reported?.inFlight,
                                  status: $0.status.description, secondsBehind: $0.secondsBehind.map(ScriptJSON.round2),
                                  secondsBehindIsLowerBound: $0.secondsBehindIsLowerBound,
                                  lastCommitAgeSeconds: $0.lastCommitAgeSeconds.map(ScriptJSON.round2),
                                  lastCommitAgeIsLowerBound: $0.lastCommitAgeSeconds != nil && $0.lastCommitAgeIsLowerBound)
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

/// What a command says when its source could read only part of what it shows (RabbitMQ without its
/// management API): one line on stderr, so a table or JSON on stdout stays what scripts parse.
enum SourceLimitation {
    static func report(_ limitation: String?) {
        guard let limitation else { return }
        FileHandle.standardError.write(Data("note: \(TextWidth.sanitized(Secrets.scrub(limitation)))\n".utf8))
    }
}
