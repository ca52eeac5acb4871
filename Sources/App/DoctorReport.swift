import Foundation
import EventModel
import Dashboard
import TerminalUI

/// `evtop doctor`: the insights rules over a live source, for scripts and CI, with a status exit code.
public enum DoctorReport {
    /// What to report.
    public struct Options: Sendable {
        /// Seconds to sample.
        public var window: Double
        /// Seconds between snapshots.
        public var interval: Double
        /// Only these rules (empty: every rule).
        public var rules: [InsightRule]
        /// Findings below this severity are left out (of the output and the exit status).
        public var minimumSeverity: InsightSeverity
        /// JSON instead of text.
        public var json: Bool

        /// Creates options.
        public init(window: Double, interval: Double, rules: [InsightRule], minimumSeverity: InsightSeverity, json: Bool) {
            self.window = window
            self.interval = interval
            self.rules = rules
            self.minimumSeverity = minimumSeverity
            self.json = json
        }
    }

    /// Samples for the window, prints the findings and returns the exit status: 0 none at or above warning,
    /// 1 warnings, 2 errors, 3 nothing could be evaluated (bad source, no snapshot, no record sampled).
    public static func run(source: SourceSelection, options: Options) async throws -> Int32 {
        let (report, skipped): (InsightReport, Int64)
        do {
            (report, skipped) = try await evaluate(source: source, options: options)
        } catch {
            FileHandle.standardError.write(Data("Error: \(TerminalSafe.text(error))\n".utf8))
            return 3
        }
        let shown = filtered(report, options)
        if options.json {
            print(TerminalSafe.json(try json(shown, skipped: skipped)))
        } else {
            print(text(shown, skipped: skipped), terminator: "")
        }
        return exitCode(shown)
    }

    /// The report without the findings the options leave out.
    static func filtered(_ report: InsightReport, _ options: Options) -> InsightReport {
        var out = report
        out.findings = report.findings.filter { f in
            f.severity >= options.minimumSeverity && (options.rules.isEmpty || options.rules.contains(f.rule))
        }
        return out
    }

    /// 2 any error, 1 any warning, 3 no record sampled (nothing proves health), else 0.
    static func exitCode(_ report: InsightReport) -> Int32 {
        switch report.findings.map(\.severity).max() {
        case .error: return 2
        case .warning: return 1
        default: return report.grade == nil ? 3 : 0  // no finding, but nothing sampled either: not "healthy"
        }
    }

    /// Samples the source for the window as the dashboard does (same reducer, same sampler, bigger
    /// budget), then loads what the rules read besides: every DLQ's letters and their journal states, the sagas.
    static func evaluate(source: SourceSelection, options: Options) async throws -> (InsightReport, Int64) {
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        let mailbox = ActionMailbox()
        let (initial, performer) = try SessionSetup.make(opened, resolved: resolved, readOnly: true, indexReadOnly: source.readOnly,
                                                       size: Size(width: 120, height: 40), theme: "default", mailbox: mailbox,
                                                       catchUpBeforeSagaLoads: true)
        var state = initial
        // One-shot: read more per tick than the dashboard does, and further back the first time.
        let sampling = InsightSampling(rules: performer.insights.rules, plan: InsightSamplePlan(perTick: 50_000, perPartition: 5_000, backfill: 2_000))
        let deadline = Date().addingTimeInterval(options.window)
        var snapshots = 0
        func observe(_ snapshot: BrokerSnapshot) async {
            snapshots += 1
            Reducer.reduce(&state, .snapshot(snapshot))
            let isDLQ = state.deadLetterTopics
            let records = await sampling.sample(opened.reader, snapshot: snapshot) { snapshot.deadLetterTopics.contains($0) || isDLQ.isDeadLetterTopic($0) }
            Reducer.reduce(&state, .insightsSampled(records))
        }
        // A recording is judged from the snapshots it holds for the window up to its clock.
        if opened.playback != nil {
            try await opened.snapshots(over: options.window, interval: options.interval) { await observe($0) }
        } else {
            repeat {
                do {
                    await observe(try await opened.reader.snapshot())
                } catch {
                    // A source that answers no snapshot at all cannot be judged; one that fails now and then is.
                    Reducer.reduce(&state, .sourceFailed(String(describing: error)))
                    if snapshots == 0, Date() >= deadline { throw error }
                }
                if Date() >= deadline { break }
                try await Task.sleep(for: .milliseconds(Int(options.interval * 1000)))
            } while true
        }
        SourceLimitation.report(state.shownLimitation)
        guard snapshots > 0 else { throw OperatorError("no snapshot of \(opened.description) within \(options.window.formatted())s: nothing to judge") }
        // What the rules read besides the samples, loaded as the insights view loads it.
        state.view = InsightsModel.view
        var effects = Reducer.reduce(&state, .tick(opened.now))
        for _ in 0..<4 where !effects.isEmpty {
            let tasks = effects.compactMap { effect -> Task<Void, Never>? in
                switch effect {
                case .loadSagas, .loadDeadLetters, .loadRedriveStates, .probeDeadLetterTopics:
                    return performer.perform(effect, state: state)
                default:
                    return nil
                }
            }
            for task in tasks { await task.value }
            effects = []
            for action in mailbox.drain() { effects += Reducer.reduce(&state, action) }
        }
        return (InsightsModel.report(state), sampling.skipped)
    }

    // MARK: - Output

    /// The findings as text: a headline, then each finding with why it matters and its evidence.
    static func text(_ report: InsightReport, skipped: Int64) -> String {
        var out = InsightsModel.headline(report) + "\n"
        out += InsightsModel.coverage(report) + (skipped > 0 ? " · a sample: \(NumberFormat.grouped(skipped)) records came faster than read" : "") + "\n"
        if !report.topicScores.isEmpty {
            let worst = report.topicScores.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.prefix(8)
            out += "topics: " + worst.map { "\($0.key) \(InsightGrade(score: $0.value).rawValue) (\($0.value))" }.joined(separator: ", ")
                + (report.topicScores.count > 8 ? ", …" : "") + "\n"
        }
        if report.findings.isEmpty {
            out += report.isEmpty ? "no data: nothing could be evaluated\n" : "no findings\n"
            return safeLines(out)
        }
        for f in report.findings {
            out += "\n\(f.severity.mark) \(f.severity)  \(f.rule.rawValue)  \(f.subject)\n"
            out += "  \(f.summary)\n"
            out += "  why: \(f.rule.advice)\n"
            for e in f.evidence {
                out += "  - \(e.target): \(e.note)\(e.correlationID.map { " (saga \($0))" } ?? "")\n"
            }
        }
        return safeLines(out)
    }

    /// Each line made inert (a record's text in a note never reaches the terminal raw).
    static func safeLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { TextWidth.sanitized(String($0)) }.joined(separator: "\n")
    }

    struct JSONEvidence: Encodable {
        var kind: String
        var topic: String?
        var partition: Int32?
        var offset: Int64?
        var saga: String?
        var group: String?
        var correlationId: String?
        var note: String
    }

    struct JSONFinding: Encodable {
        var rule: String
        var severity: String
        var subject: String
        var topic: String?
        var summary: String
        var advice: String
        var evidence: [JSONEvidence]
    }

    struct JSONTopic: Encodable {
        var score: Int
        var grade: String
    }

    struct JSONReport: Encodable {
        /// nil (null) when nothing could be evaluated: no data is not a grade.
        var grade: String?
        var score: Int?
        var errors: Int
        var warnings: Int
        var infos: Int
        var sampledRecords: Int
        var sampledTopics: Int
        var observedSeconds: Double
        /// Records that arrived faster than they were read: the findings rest on a sample (shares are of the sample).
        var skippedRecords: Int64
        var notEvaluated: [String]
        var topics: [String: JSONTopic]
        var findings: [JSONFinding]
    }

    static func json(_ report: InsightReport, skipped: Int64) throws -> String {
        let findings = report.findings.map { f in
            JSONFinding(rule: f.rule.rawValue, severity: f.severity.description, subject: f.subject, topic: f.topic, summary: f.summary,
                        advice: f.rule.advice, evidence: f.evidence.map(evidence))
        }
        let out = JSONReport(grade: report.grade?.rawValue, score: report.score, errors: report.count(.error), warnings: report.count(.warning),
                             infos: report.count(.info), sampledRecords: report.sampledRecords, sampledTopics: report.sampledTopics,
                             observedSeconds: (report.observedSeconds * 10).rounded() / 10, skippedRecords: skipped,
                             notEvaluated: report.notEvaluated,
                             topics: report.topicScores.mapValues { JSONTopic(score: $0, grade: InsightGrade(score: $0).rawValue) },
                             findings: findings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(out), as: UTF8.self)
    }

    static func evidence(_ e: InsightEvidenceItem) -> JSONEvidence {
        var out = JSONEvidence(kind: "", note: e.note)
        out.correlationId = e.correlationID
        switch e.target {
        case .record(let p), .letter(let p):
            out.kind = { if case .letter = e.target { return "letter" } else { return "record" } }()
            out.topic = p.topic
            out.partition = p.partition
            out.offset = p.offset
        case .saga(let id):
            out.kind = "saga"
            out.saga = id
        case .group(let id):
            out.kind = "group"
            out.group = id
        case .partition(let topic, let partition):
            out.kind = "partition"
            out.topic = topic
            out.partition = partition
        }
        return out
    }
}
