import Foundation

/// How much a finding matters: errors lose data or process it twice, warnings will hurt, infos are design smells.
public enum InsightSeverity: Int, Sendable, Hashable, Comparable, CaseIterable, Codable, CustomStringConvertible {
    /// A design smell: worth knowing, nothing breaks.
    case info = 0
    /// Will hurt: lag, lost order, consumers that break on the next change.
    case warning = 1
    /// Loses data or processes it twice.
    case error = 2

    /// Orders by how much it matters.
    public static func < (a: InsightSeverity, b: InsightSeverity) -> Bool { a.rawValue < b.rawValue }

    /// `error`, `warning`, `info`.
    public var description: String {
        switch self {
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }

    /// Parses `error`, `warning` (`warn`) or `info`.
    public init?(name: String) {
        switch name.lowercased() {
        case "error", "errors": self = .error
        case "warning", "warnings", "warn": self = .warning
        case "info": self = .info
        default: return nil
        }
    }

    /// The one-character mark of the insights table: `✗`, `!`, `·`.
    public var mark: String {
        switch self {
        case .error: return "✗"
        case .warning: return "!"
        case .info: return "·"
        }
    }

    /// Points a finding of this severity takes off its topic's score (Popeye-style grading).
    var penalty: Int {
        switch self {
        case .error: return 25
        case .warning: return 10
        case .info: return 3
        }
    }
}

/// A rule of the insights analysis: its id (what config files, `--rule` and JSON name), why it matters and what to do.
public enum InsightRule: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// One event id at two positions of a topic.
    case duplicateEvents = "duplicate-events"
    /// A letter requeued twice into a topic, or a group whose committed offset went back.
    case reprocessed = "reprocessed"
    /// Events without an id, correlation id, type or schema version.
    case missingIdentity = "missing-identity"
    /// One event type live in two versions or two field sets.
    case schemaDrift = "schema-drift"
    /// Event types named in the imperative or generically.
    case commandNamed = "command-named"
    /// Request/reply over topics.
    case requestReply = "request-reply"
    /// Payloads over the size threshold.
    case fatEvents = "fat-events"
    /// A letter requeued and dead-lettered again.
    case poisonLoop = "poison-loop"
    /// A DLQ that grows while its oldest letter waits.
    case stagnantDLQ = "stagnant-dlq"
    /// One partition writing over the factor × the mean.
    case hotPartition = "hot-partition"
    /// One correlation id on several partitions of a topic.
    case keySpread = "key-spread"
    /// Retention deleting, or about to delete, records a group has not read.
    case retentionRisk = "retention-risk"
    /// A group with lag, no members and no recent commit.
    case abandonedGroup = "abandoned-group"
    /// Sagas past their timeout.
    case stuckSagas = "stuck-sagas"
    /// A saga type whose sagas fail or compensate too often.
    case failingSagas = "failing-sagas"

    /// The rule id.
    public var description: String { rawValue }

    /// Why it matters and what to do, in one line (shown under every finding of the rule).
    public var advice: String {
        switch self {
        case .duplicateEvents:
            return "a producer retried without idempotence: consumers see the event twice; enable idempotence (enable.idempotence=true) or dedupe on the event id"
        case .reprocessed:
            return "records were consumed again: make consumers idempotent, and find out why the group rewound or the letter was requeued twice"
        case .missingIdentity:
            return "events without an id, correlation id, type or version cannot be deduplicated, followed or evolved; set them in a header or the payload"
        case .schemaDrift:
            return "consumers built for one shape get another; version the schema, keep changes compatible, and check the consumers of the new version"
        case .commandNamed:
            return "an event states a fact in the past tense (OrderPlaced); an imperative or generic name hides a command or says nothing"
        case .requestReply:
            return "request/reply over topics couples services in time; prefer events, or a direct call where an answer is needed"
        case .fatEvents:
            return "large payloads slow every consumer and the broker; send a reference (claim check) and keep events small"
        case .poisonLoop:
            return "a message that fails again after a requeue will loop forever; fix the consumer or skip the letter before requeueing"
        case .stagnantDLQ:
            return "dead letters nobody handles are lost work; requeue what is fixed, skip what is not, and alert on DLQ growth"
        case .hotPartition:
            return "one partition gets most of the traffic: its consumer falls behind alone; choose a key that spreads better"
        case .keySpread:
            return "records of one entity on several partitions lose their order; key records by the entity (the correlation id)"
        case .retentionRisk:
            return "retention will delete records before the group reads them; scale the consumers or raise retention.ms"
        case .abandonedGroup:
            return "a group with lag and no members is not consuming; delete it, or start its consumers"
        case .stuckSagas:
            return "sagas past their timeout hold resources; find the step they wait on (enter opens one)"
        case .failingSagas:
            return "many sagas of one type fail or compensate; the step named fails most: look at its service"
        }
    }

    /// Parses a rule id.
    public init?(id: String) {
        self.init(rawValue: id.lowercased())
    }
}

/// Something a finding points at, openable from the insights view.
public enum InsightEvidence: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A record of a topic.
    case record(RecordPosition)
    /// A dead letter.
    case letter(RecordPosition)
    /// A saga by correlation id.
    case saga(String)
    /// A consumer group.
    case group(String)
    /// One partition of a topic.
    case partition(topic: String, partition: Int32)

    /// `payments p2@8812`, `saga ord-1`, `group billing`.
    public var description: String {
        switch self {
        case .record(let p), .letter(let p): return "\(p.topic) p\(p.partition)@\(p.offset)"
        case .saga(let id): return "saga \(id)"
        case .group(let id): return "group \(id)"
        case .partition(let topic, let partition): return "\(topic) p\(partition)"
        }
    }
}

/// One finding: a rule broken somewhere, with the evidence that proves it.
public struct InsightFinding: Sendable, Hashable {
    /// The rule.
    public var rule: InsightRule
    /// How much it matters.
    public var severity: InsightSeverity
    /// What it concerns, as shown: a topic, `group / topic pP`, an event type, a saga type.
    public var subject: String
    /// The topic whose score it counts against (nil: it concerns no single topic, e.g. a saga type).
    public var topic: String?
    /// The finding in one line: `38 event ids at 2 offsets`.
    public var summary: String
    /// Up to ``InsightFinding/maxEvidence`` concrete records, letters, sagas or groups, with what each shows.
    public var evidence: [InsightEvidenceItem]

    /// Evidence kept per finding.
    public static let maxEvidence = 5

    /// Creates a finding.
    public init(rule: InsightRule, severity: InsightSeverity, subject: String, topic: String?, summary: String,
                evidence: [InsightEvidenceItem]) {
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.topic = topic
        self.summary = summary
        self.evidence = Array(evidence.prefix(Self.maxEvidence))
    }

    /// A stable key: rule and subject (the insights table's row key).
    public var key: String { rule.rawValue + "|" + subject }
}

/// One piece of evidence and what it shows (`event-id e-8e8e… also at p0@8907`).
public struct InsightEvidenceItem: Sendable, Hashable {
    /// What it points at.
    public var target: InsightEvidence
    /// What it shows.
    public var note: String
    /// The record's correlation id, when it has one: `enter` opens its saga.
    public var correlationID: String?

    /// Creates an item.
    public init(_ target: InsightEvidence, _ note: String, correlationID: String? = nil) {
        self.target = target
        self.note = note
        self.correlationID = correlationID
    }
}

/// A grade from A (healthy) to F, from a 0–100 score, as Popeye grades a cluster.
public enum InsightGrade: String, Sendable, Hashable, CaseIterable, Codable {
    /// 90 and above, 80–89, 70–79, 60–69, 50–59, below 50.
    case a = "A", b = "B", c = "C", d = "D", e = "E", f = "F"

    /// The grade of a score.
    public init(score: Int) {
        switch score {
        case 90...: self = .a
        case 80..<90: self = .b
        case 70..<80: self = .c
        case 60..<70: self = .d
        case 50..<60: self = .e
        default: self = .f
        }
    }
}

/// Thresholds, disabled rules and suppressions of the analysis (config: `insights:`, per context).
public struct InsightSettings: Sendable, Hashable {
    /// A payload over this many bytes is fat (default 100 kB).
    public var fatEventBytes = 100_000
    /// A partition producing over this factor × the topic's mean is hot.
    public var hotPartitionFactor = 2.0
    /// Below this many records per second a topic is too quiet to call a partition hot.
    public var hotPartitionMinRate = 1.0
    /// A group whose committed offset reaches the low watermark within this many seconds is at risk.
    public var retentionRiskSeconds = 3_600.0
    /// A group with lag, no members and no commit for this long is abandoned.
    public var abandonedAfterSeconds = 600.0
    /// A DLQ whose oldest unhandled letter waited this long, while it still grows, is stagnant.
    public var stagnantDLQSeconds = 86_400.0
    /// Share of a saga type's sagas failed or compensated above which it is failing.
    public var failingSagaShare = 0.20
    /// Share of sampled records lacking an identity field above which it is reported.
    public var missingIdentityShare = 0.05
    /// Fewest sampled records of a topic before shares are reported (fewer prove nothing).
    public var minimumSample = 20
    /// Rules switched off.
    public var disabled: Set<InsightRule> = []
    /// Findings left out.
    public var suppressions: [InsightSuppression] = []

    /// The defaults.
    public init() {}

    /// True when a finding of `rule` about `topic` / `subject` is switched off or suppressed.
    public func suppresses(_ rule: InsightRule, topic: String?, subject: String) -> Bool {
        disabled.contains(rule) || suppressions.contains { $0.matches(rule, topic: topic, subject: subject) }
    }
}

/// Leaves out the findings of one rule (or every rule) about the topics (or subjects) a glob names.
public struct InsightSuppression: Sendable, Hashable {
    /// The rule; nil: every rule.
    public var rule: InsightRule?
    /// A glob (`*` and `?`) over the finding's topic or subject; nil: everything the rule finds.
    public var pattern: String?

    /// Creates a suppression.
    public init(rule: InsightRule?, pattern: String?) {
        self.rule = rule
        self.pattern = pattern
    }

    func matches(_ rule: InsightRule, topic: String?, subject: String) -> Bool {
        if let own = self.rule, own != rule { return false }
        guard let pattern else { return true }
        return Glob.matches(pattern: pattern, text: subject) || topic.map { Glob.matches(pattern: pattern, text: $0) } == true
    }
}

/// Short figures for findings' one-line texts (EventModel draws nothing, so it keeps its own).
enum InsightText {
    /// `187 kB`, `1.2 MB` (decimal units, as the 100 kB threshold is written).
    static func bytes(_ n: Int) -> String {
        if n >= 1_000_000 { return String(format: "%.1f MB", Double(n) / 1_000_000) }
        if n >= 1_000 { return "\(n / 1_000) kB" }
        return "\(n) B"
    }

    /// `45s`, `14 min`, `3.5 h`, `2 d`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 90 { return "\(Int(seconds.rounded()))s" }
        if seconds < 5_400 { return "\(Int((seconds / 60).rounded())) min" }
        if seconds < 172_800 { return String(format: "%.1f h", seconds / 3_600) }
        return "\(Int((seconds / 86_400).rounded())) d"
    }

    /// `1 event id`, `2 event ids`.
    static func count(_ n: Int, _ noun: String) -> String {
        "\(count(n)) \(noun)\(n == 1 ? "" : "s")"
    }

    /// `42%`.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "–" : "\(Int((Double(part) * 100 / Double(whole)).rounded()))%"
    }

    /// `1,234`.
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
