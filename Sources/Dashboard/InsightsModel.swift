import Foundation
import EventModel
import TerminalUI

/// What the insights view keeps: the analysis (fed by every snapshot and sample, shown or not), its last
/// report, and the view's cursor, sort and selected evidence.
public struct InsightsState: ViewStateValue {
    /// The analysis.
    public var analyzer = InsightAnalyzer()
    /// The last evaluation (nil before the first).
    public var report: InsightReport?
    /// What the last evaluation was made from: a new one is made when it changes.
    var fingerprint = ""
    /// The table's cursor.
    public var cursor = TableCursor()
    /// The sort column.
    public var sort: InsightSortKey = .severity
    /// The highlighted finding's selected evidence item.
    public var evidence = 0

    /// A state before any sample.
    public init() {}
}

/// Columns the findings can be sorted by.
public enum InsightSortKey: String, CaseIterable, Sendable, Hashable {
    /// Errors first (the report's order), by rule id, or by what the finding concerns.
    case severity, rule, subject

    /// The column title the sort marker goes on.
    var column: String {
        switch self {
        case .severity: return "SEV"
        case .rule: return "RULE"
        case .subject: return "WHERE"
        }
    }
}

/// Pure derivations of the insights view and of `evtop doctor`.
public enum InsightsModel {
    /// The view's name and `ViewID`.
    public static let view = ViewID.registered(name: "insights", argument: "")

    /// Sets the thresholds, disabled rules and suppressions (from the config's context).
    public static func configure(_ state: inout AppState, settings: InsightSettings) {
        state.viewStates[InsightsState.self].analyzer.settings = settings
    }

    /// A snapshot: retention's pace and DLQ growth. O(partitions).
    static func observe(_ state: inout AppState, _ snapshot: BrokerSnapshot) {
        let dlqs = state.deadLetterTopics
        state.viewStates[InsightsState.self].analyzer.observe(snapshot, isDeadLetterTopic: dlqs.isDeadLetterTopic)
    }

    /// Sampled records (those of DLQ topics are judged as letters, not as events). O(records).
    static func ingest(_ state: inout AppState, _ records: [InsightRecord]) {
        let dlqs = Set(records.map(\.position.topic).filter { state.deadLetterTopics.isDeadLetterTopic($0) })
        state.viewStates[InsightsState.self].analyzer.ingest(records, deadLetterTopics: dlqs)
    }

    /// What the rules judge besides the samples: the figures the other views hold.
    public static func inputs(_ state: AppState) -> InsightInputs {
        var handled: Set<RecordPosition> = []
        for states in state.redriveStates.values {
            for (position, s) in states where DeadLetterModel.handledStates.contains(s.label) { handled.insert(position) }
        }
        let sagas = state.sagas.rows.map { rows in
            rows.map { InsightSaga(id: $0.id, type: $0.type, state: $0.state, lastMillis: $0.lastMillis, failedStep: $0.failedStep) }
        }
        return InsightInputs(now: state.now, snapshot: state.snapshot, groups: state.groupLags, meter: state.meter,
                             deadLetters: state.deadLetters, handledLetters: handled, sagas: sagas)
    }

    /// Evaluates the rules now.
    public static func report(_ state: AppState) -> InsightReport {
        state.viewStates[InsightsState.self].analyzer.evaluate(inputs(state))
    }

    /// While the view shows: the sagas list and every DLQ's letters are loaded (the rules read them),
    /// and the report is made again when what it rests on changed.
    static func plannedLoads(_ state: inout AppState) -> [Effect] {
        guard state.view == view else { return [] }
        var effects = SagaModel.listLoad(&state)
        if !state.paused { effects += DeadLetterModel.loads(of: DeadLetterModel.deadLetterTopics(state), &state) }
        refresh(&state)
        return effects
    }

    /// Makes the report again if its inputs changed since the last one.
    static func refresh(_ state: inout AppState) {
        let s = state.viewStates[InsightsState.self]
        let letters = state.deadLetters.values.reduce(0) { $0 + $1.count }
        let handled = state.redriveStates.values.reduce(0) { $0 + $1.count }
        let print = "\(s.analyzer.sampledRecords)|\(state.snapshot?.time.timeIntervalSince1970 ?? 0)|\(state.sagas.rows?.count ?? -1)|"
            + "\(state.sagas.rows?.first?.lastMillis ?? 0)|\(letters)|\(handled)|\(Int(state.now.timeIntervalSince1970))"
        guard print != s.fingerprint || s.report == nil else { return }
        state.viewStates[InsightsState.self].report = report(state)
        state.viewStates[InsightsState.self].fingerprint = print
    }

    /// The findings shown: filtered (`/` over severity, rule, where and finding) and sorted.
    public static func rows(_ state: AppState) -> [InsightFinding] {
        let s = state.viewStates[InsightsState.self]
        var rows = s.report?.findings ?? []
        let pattern = state.filters[view.name] ?? ""
        if !pattern.isEmpty {
            let filter = RowFilter(pattern)
            rows = rows.filter { filter.matches("\($0.severity) \($0.rule.rawValue) \($0.subject) \($0.summary)") }
        }
        switch s.sort {
        case .severity: break  // the report's order: errors first, then by rule and subject
        case .rule: rows.sort { ($0.rule.rawValue, $0.subject) < ($1.rule.rawValue, $1.subject) }
        case .subject: rows.sort { ($0.subject, $0.rule.rawValue) < ($1.subject, $1.rule.rawValue) }
        }
        return rows
    }

    /// The highlighted finding.
    static func highlighted(_ state: AppState) -> InsightFinding? {
        Reducer.highlighted(rows(state), state.viewStates[InsightsState.self].cursor, key: \.key)
    }

    /// `grade C · 2 errors · 3 warnings · 1 info`, or why there is no grade.
    public static func headline(_ report: InsightReport?) -> String {
        guard let report, !report.isEmpty else { return "no data" }
        let counts = InsightSeverity.allCases.reversed().map { s -> String in
            let n = report.count(s)
            let noun = s == .info ? "info" : s.description + (n == 1 ? "" : "s")
            return "\(n) \(noun)"
        }
        let grade = report.grade.map { "grade \($0.rawValue)" } ?? "no grade: no record sampled"
        return grade + " · " + counts.joined(separator: " · ")
    }

    /// `12,345 records sampled · 4m 10s`, with what was not evaluated.
    public static func coverage(_ report: InsightReport?) -> String {
        guard let report else { return "nothing evaluated yet" }
        var parts = ["\(NumberFormat.grouped(Int64(report.sampledRecords))) records of \(report.sampledTopics) topic\(report.sampledTopics == 1 ? "" : "s") sampled over \(NumberFormat.duration(seconds: report.observedSeconds))"]
        parts += report.notEvaluated
        return parts.joined(separator: " · ")
    }

    /// Opens what an evidence item points at: a record's saga, a letter, a group, a partition.
    static func open(_ item: InsightEvidenceItem, _ state: inout AppState) {
        switch item.target {
        case .record(let p):
            if let id = item.correlationID {
                Reducer.openSaga(&state, id, following: false)
            } else {
                Reducer.say(&state, "\(p.topic) p\(p.partition)@\(p.offset) carries no correlation id: no saga to open", error: true)
            }
        case .letter(let p):
            Reducer.open(&state, .deadLetterDetail(topic: p.topic, partition: p.partition, offset: p.offset))
        case .saga(let id):
            Reducer.openSaga(&state, id, following: false)
        case .group(let id):
            Reducer.open(&state, .groupPartitions(group: id))
        case .partition(let topic, _):
            Reducer.open(&state, .partitions(topic: topic))
        }
    }
}
