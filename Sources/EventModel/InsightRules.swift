import Foundation

/// A saga as the saga rules read it (built from the sagas list; EventModel does not know the views).
public struct InsightSaga: Sendable, Hashable {
    /// Correlation id.
    public var id: String
    /// Saga definition name; nil when inferred.
    public var type: String?
    /// Where it stands.
    public var state: SagaState
    /// Latest record or span, ms.
    public var lastMillis: Int64
    /// The step that failed, if one did.
    public var failedStep: String?

    /// Creates a saga summary.
    public init(id: String, type: String?, state: SagaState, lastMillis: Int64, failedStep: String?) {
        self.id = id
        self.type = type
        self.state = state
        self.lastMillis = lastMillis
        self.failedStep = failedStep
    }
}

/// The figures the rules judge besides the sampled records: what the views already hold.
public struct InsightInputs: Sendable {
    /// The evaluation time.
    public var now: Date
    /// The latest snapshot (nil: none yet).
    public var snapshot: BrokerSnapshot?
    /// Every group's lag evaluation.
    public var groups: [GroupLag]
    /// Produce rates per partition.
    public var meter: ThroughputMeter
    /// Loaded dead letters per DLQ topic.
    public var deadLetters: [String: [DeadLetter]]
    /// Dead letters the redrive journal counts as handled (redriven or skipped).
    public var handledLetters: Set<RecordPosition>
    /// Loaded sagas (nil: not loaded: the saga rules are not evaluated, and the report says so).
    public var sagas: [InsightSaga]?
    /// Rules for reading letters' correlation ids and types.
    public var rules: CorrelationRules

    /// Creates inputs.
    public init(now: Date, snapshot: BrokerSnapshot?, groups: [GroupLag] = [], meter: ThroughputMeter = ThroughputMeter(),
                deadLetters: [String: [DeadLetter]] = [:], handledLetters: Set<RecordPosition> = [],
                sagas: [InsightSaga]? = nil, rules: CorrelationRules = .default) {
        self.now = now
        self.snapshot = snapshot
        self.groups = groups
        self.meter = meter
        self.deadLetters = deadLetters
        self.handledLetters = handledLetters
        self.sagas = sagas
        self.rules = rules
    }
}

/// The findings of one evaluation, graded.
public struct InsightReport: Sendable, Hashable {
    /// Findings, errors first, then by rule and subject.
    public var findings: [InsightFinding]
    /// Score (0–100) per topic evaluated: sampled, or concerned by a finding.
    public var topicScores: [String: Int]
    /// The overall score; nil until a record was sampled (figures alone can prove a fault, never health).
    public var score: Int?
    /// Records the findings rest on.
    public var sampledRecords: Int
    /// Topics sampled.
    public var sampledTopics: Int
    /// Seconds the analysis has observed.
    public var observedSeconds: Double
    /// What was not evaluated, and why (`sagas not loaded`), for titles and JSON.
    public var notEvaluated: [String]

    /// The grade of the overall score; nil with no score.
    public var grade: InsightGrade? { score.map(InsightGrade.init(score:)) }

    /// Findings of one severity.
    public func count(_ severity: InsightSeverity) -> Int { findings.filter { $0.severity == severity }.count }

    /// True when nothing was judged: no record sampled and no finding (no data is not "healthy").
    public var isEmpty: Bool { score == nil && findings.isEmpty }
}

extension InsightAnalyzer {
    /// Every rule over what was sampled and the current figures, graded.
    public func evaluate(_ inputs: InsightInputs) -> InsightReport {
        var findings: [InsightFinding] = []
        var notEvaluated: [String] = []
        let dlqs = inputs.snapshot?.deadLetterTopics ?? []
        recordFindings(into: &findings)
        typeFindings(inputs, into: &findings)
        deadLetterFindings(inputs, into: &findings)
        partitionFindings(inputs, dlqs: dlqs, into: &findings)
        groupFindings(inputs, into: &findings)
        if let sagas = inputs.sagas {
            sagaFindings(sagas, into: &findings)
        } else {
            notEvaluated.append("sagas not loaded")
        }
        if isEmpty { notEvaluated.append("no record sampled yet") }
        findings = findings.filter { !settings.suppresses($0.rule, topic: $0.topic, subject: $0.subject) }
        let order = Dictionary(uniqueKeysWithValues: InsightRule.allCases.enumerated().map { ($1, $0) })
        findings.sort {
            if $0.severity != $1.severity { return $0.severity > $1.severity }
            if $0.rule != $1.rule { return order[$0.rule, default: 0] < order[$1.rule, default: 0] }
            return $0.subject < $1.subject
        }

        var scores: [String: Int] = [:]
        for (name, stats) in topics where stats.sampled > 0 { scores[name] = 100 }
        var unplaced = 0
        for f in findings {
            // A topic is graded only when its records were sampled; a finding elsewhere counts against the whole.
            if let topic = f.topic, let score = scores[topic] {
                scores[topic] = max(0, score - f.severity.penalty)
            } else {
                unplaced += f.severity.penalty
            }
        }
        // No record sampled: the figures may still prove findings (a group rewinding), but nothing proves health.
        // What concerns no sampled topic (sagas, letters, groups elsewhere) is graded as one more "topic".
        let graded = Array(scores.values) + (unplaced > 0 ? [max(0, 100 - unplaced)] : [])
        let score: Int? = isEmpty || scores.isEmpty ? nil : graded.reduce(0, +) / graded.count
        let nowMillis = Int64(inputs.now.timeIntervalSince1970 * 1000)
        return InsightReport(findings: findings, topicScores: scores, score: score, sampledRecords: sampledRecords,
                             sampledTopics: topics.values.filter { $0.sampled > 0 }.count,
                             observedSeconds: sinceMillis.map { Double(max(0, nowMillis - $0)) / 1000 } ?? 0,
                             notEvaluated: notEvaluated)
    }

    // MARK: records

    private func recordFindings(into out: inout [InsightFinding]) {
        for (topic, s) in topics where s.sampled > 0 {
            let sample = "of \(InsightText.count(s.sampled)) sampled"
            if s.duplicates.count > 0 {
                out.append(InsightFinding(rule: .duplicateEvents, severity: .error, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(s.duplicates.count, "event id")) at 2 offsets (\(sample))",
                                          evidence: s.duplicates.examples))
            }
            if s.redrivenTwice.count > 0 {
                out.append(InsightFinding(rule: .reprocessed, severity: .error, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(s.redrivenTwice.count, "letter")) requeued twice into it",
                                          evidence: s.redrivenTwice.examples))
            }
            if s.sampled >= settings.minimumSample {
                let missing: [(String, Int)] = [("event id", s.missingEventID), ("correlation id", s.missingCorrelationID),
                                                ("type", s.missingType), ("version", s.missingVersion)]
                let over = missing.filter { Double($0.1) / Double(s.sampled) > settings.missingIdentityShare }
                if !over.isEmpty {
                    let text = over.map { "\($0.0) \(InsightText.percent($0.1, of: s.sampled))" }.joined(separator: ", ")
                    out.append(InsightFinding(rule: .missingIdentity, severity: .warning, subject: topic, topic: topic,
                                              summary: "without \(text) \(sample)",
                                              evidence: s.missingExample.map { [InsightEvidenceItem(.record($0), "a record without " + over.map(\.0).joined(separator: ", "))] } ?? []))
                }
            }
            if s.fat > 0 {
                out.append(InsightFinding(rule: .fatEvents, severity: .warning, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(s.fat)) \(sample) over \(InsightText.bytes(settings.fatEventBytes)) (largest \(InsightText.bytes(s.largest)))",
                                          evidence: s.fatExamples))
            }
            if s.replyAsks > 0 {
                out.append(InsightFinding(rule: .requestReply, severity: .info, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(s.replyAsks)) \(sample) ask for a reply (reply-to header)",
                                          evidence: s.replyExamples))
            }
            if s.spreadIDs > 0 {
                out.append(InsightFinding(rule: .keySpread, severity: .warning, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(s.spreadIDs, "correlation id")) on several partitions: their order is lost",
                                          evidence: s.spreadExamples))
            }
        }
    }

    // MARK: event types

    private func typeFindings(_ inputs: InsightInputs, into out: inout [InsightFinding]) {
        // Which version each DLQ's letters carry, per original event type: drift that ends in a DLQ matters most.
        // Per event type, per consumer group that dead-lettered them (Spring and Connect letters name it).
        var letterVersions: [String: [String: [String: Int]]] = [:]
        for letters in inputs.deadLetters.values {
            for letter in letters {
                let r = InsightRecord(letter.record, rules: inputs.rules)
                if let type = r.eventType {
                    letterVersions[type, default: [:]][letter.consumerGroup ?? "", default: [:]][r.schemaVersion ?? "none", default: 0] += 1
                }
            }
        }
        for (type, t) in types {
            if let smell = EventNaming.smell(type) {
                out.append(InsightFinding(rule: .commandNamed, severity: .info, subject: type, topic: t.topic,
                                          summary: "\(smell) event type (\(InsightText.count(t.count)) sampled on \(t.topic))",
                                          evidence: [InsightEvidenceItem(.record(t.first), "event-type \(type)")]))
            }
            if type.hasSuffix("Request"), let reply = ["Response", "Reply"].lazy.map({ String(type.dropLast(7)) + $0 }).first(where: { types[$0] != nil }) {
                out.append(InsightFinding(rule: .requestReply, severity: .info, subject: type, topic: t.topic,
                                          summary: "\(type) answered by \(reply) over topics",
                                          evidence: [InsightEvidenceItem(.record(t.first), type)] + (types[reply].map { [InsightEvidenceItem(.record($0.first), reply)] } ?? [])))
            }
            let versions = t.versions.keys.sorted(by: Self.versionOrder)
            if versions.count > 1 {
                var summary = versions.map { v -> String in
                    let n = t.versions[v, default: 0]
                    // A rare version is counted, not rounded to 0%.
                    // and a common one is not rounded up to 100% beside it.
                    return n * 100 < t.count ? "v\(v) \(n) record\(n == 1 ? "" : "s")" : "v\(v) \(n * 100 / t.count)%"
                }.joined(separator: ", ") + " live"
                var severity = InsightSeverity.warning
                // The group whose letters concentrate most on one version (ties: more letters, then the name).
                let concentrations = (letterVersions[type] ?? [:]).compactMap { group, versions -> (group: String, version: String, n: Int, total: Int)? in
                    guard let worst = versions.max(by: { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }) else { return nil }
                    return (group, worst.key, worst.value, versions.values.reduce(0, +))
                }
                if let worst = concentrations.max(by: { a, b in
                    let (x, y) = (Double(a.n) / Double(a.total), Double(b.n) / Double(b.total))
                    return x == y ? (a.total == b.total ? a.group > b.group : a.total < b.total) : x < y
                }) {
                    summary += "; \(worst.n) of \(worst.total) DLQ letters" + (worst.group.isEmpty ? "" : " of \(worst.group)") + " are v\(worst.version)"
                    if worst.total >= 3, Double(worst.n) / Double(worst.total) >= 0.8,
                       Double(t.versions[worst.version, default: 0]) / Double(max(1, t.count)) < 0.5 { severity = .error }
                }
                let evidence = versions.compactMap { v in t.versionExamples[v].map { InsightEvidenceItem(.record($0), "\(type) v\(v)") } }
                out.append(InsightFinding(rule: .schemaDrift, severity: severity, subject: type, topic: t.topic,
                                          summary: summary, evidence: evidence))
            }
            for version in versions {
                guard let shapes = t.shapes[version], shapes.count > 1 else { continue }
                let sorted = shapes.sorted { $0.value > $1.value }
                let common = Set(sorted[0].key)
                let other = Set(sorted[1].key)
                let added = other.subtracting(common).sorted().prefix(3).map { "+" + $0 }
                let removed = common.subtracting(other).sorted().prefix(3).map { "−" + $0 }
                out.append(InsightFinding(rule: .schemaDrift, severity: .warning, subject: "\(type) v\(version)", topic: t.topic,
                                          summary: "\(shapes.count) field sets under one version: \((added + removed).joined(separator: " "))",
                                          evidence: sorted.prefix(InsightFinding.maxEvidence).compactMap { shape in
                                              t.shapeExamples[shape.key].map { InsightEvidenceItem(.record($0), "\(shape.value)× \(shape.key.joined(separator: ","))") }
                                          }))
            }
        }
    }

    /// Versions in numeric order when they are numbers.
    static func versionOrder(_ a: String, _ b: String) -> Bool {
        if let x = Int(a), let y = Int(b) { return x < y }
        return a < b
    }

    // MARK: dead letters

    private func deadLetterFindings(_ inputs: InsightInputs, into out: inout [InsightFinding]) {
        let nowMillis = Int64(inputs.now.timeIntervalSince1970 * 1000)
        for (topic, letters) in inputs.deadLetters {
            // Requeued by evtop (or a tool writing the same headers) and dead-lettered again.
            let again = letters.filter { $0.redriveID != nil || $0.redrivenFrom != nil }
            // The same original record dead-lettered more than once: it went round.
            var byOrigin: [String: [DeadLetter]] = [:]
            for letter in letters {
                if let t = letter.originalTopic, let p = letter.originalPartition, let o = letter.originalOffset {
                    byOrigin["\(t)/\(p)/\(o)", default: []].append(letter)
                }
            }
            // The same event dead-lettered under one id twice (a copy requeued by another tool went round too).
            var byEventID: [String: [DeadLetter]] = [:]
            for letter in letters where letter.originalOffset == nil {
                if let id = InsightRecord(letter.record, rules: inputs.rules).eventID { byEventID["event " + id, default: []].append(letter) }
            }
            let repeated = (byOrigin.filter { $0.value.count > 1 } + byEventID.filter { $0.value.count > 1 }).sorted { $0.key < $1.key }
            if !again.isEmpty || !repeated.isEmpty {
                var evidence = again.prefix(InsightFinding.maxEvidence).map { letter in
                    InsightEvidenceItem(.letter(Self.position(letter)), "requeued" + (letter.redrivenFrom.map { " from \($0)" } ?? "") + ", failed again")
                }
                for (origin, copies) in repeated where evidence.count < InsightFinding.maxEvidence {
                    evidence.append(InsightEvidenceItem(.letter(Self.position(copies[copies.count - 1])), "\(copies.count) letters of \(origin)"))
                }
                let count = max(again.count, repeated.reduce(0) { $0 + $1.value.count - 1 })
                out.append(InsightFinding(rule: .poisonLoop, severity: .error, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(count, "letter")) requeued and dead-lettered again", evidence: evidence))
            }
            let pending = letters.filter { !inputs.handledLetters.contains(Self.position($0)) }
            if let oldest = pending.compactMap({ $0.failedAtMillis ?? $0.record.timestampMillis }).min(),
               Double(nowMillis - oldest) / 1000 >= settings.stagnantDLQSeconds,
               let growth = deadLetterGrowth[topic], growth.grewAtMillis != nil {
                out.append(InsightFinding(rule: .stagnantDLQ, severity: .warning, subject: topic, topic: topic,
                                          summary: "\(InsightText.count(pending.count, "letter")) unhandled, the oldest for \(InsightText.duration(Double(nowMillis - oldest) / 1000)); still growing",
                                          evidence: pending.suffix(1).map { InsightEvidenceItem(.letter(Self.position($0)), "oldest unhandled letter") }))
            }
        }
    }

    static func position(_ letter: DeadLetter) -> RecordPosition {
        RecordPosition(topic: letter.record.topic, partition: letter.record.partition, offset: letter.record.offset)
    }

    // MARK: partitions

    private func partitionFindings(_ inputs: InsightInputs, dlqs: Set<String>, into out: inout [InsightFinding]) {
        guard let snapshot = inputs.snapshot else { return }
        for topic in snapshot.topics where topic.partitions.count > 1 && !dlqs.contains(topic.name) {
            var rates: [(Int32, Double)] = []
            var window = "60s"
            for p in topic.partitions {
                let r = inputs.meter.rates(topic: topic.name, partition: p.partition)
                if let rate = r.perSecond60 { rates.append((p.partition, rate)) } else if let rate = r.perSecond10 { rates.append((p.partition, rate)); window = "10s" }
            }
            guard rates.count == topic.partitions.count else { continue }  // not measured yet: no claim
            let total = rates.reduce(0) { $0 + $1.1 }
            let mean = total / Double(rates.count)
            guard mean >= settings.hotPartitionMinRate, let hot = rates.max(by: { $0.1 < $1.1 }),
                  hot.1 > settings.hotPartitionFactor * mean else { continue }
            out.append(InsightFinding(rule: .hotPartition, severity: .warning, subject: "\(topic.name) p\(hot.0)", topic: topic.name,
                                      summary: String(format: "p%d takes %@ of the writes (%.1f× the mean) over %@", hot.0,
                                                      InsightText.percent(Int(hot.1 * 1000), of: Int(total * 1000)), hot.1 / mean, window),
                                      evidence: [InsightEvidenceItem(.partition(topic: topic.name, partition: hot.0),
                                                                     String(format: "%.1f/s against a mean of %.1f/s", hot.1, mean))]))
        }
    }

    // MARK: groups

    private func groupFindings(_ inputs: InsightInputs, into out: inout [InsightFinding]) {
        let lowsBy = inputs.snapshot.map { s in
            Dictionary(s.topics.flatMap { t in t.partitions.filter(\.hasPositions).map { (TopicPartition(t.name, $0.partition), $0.low) } },
                       uniquingKeysWith: { a, _ in a })
        } ?? [:]
        for group in inputs.groups {
            let rewound = group.partitions.filter { $0.status == .rewind }
            if !rewound.isEmpty {
                out.append(InsightFinding(rule: .reprocessed, severity: .warning, subject: group.id, topic: rewound[0].topic,
                                          summary: "committed offset went back on \(rewound.count) partition\(rewound.count == 1 ? "" : "s"): records are processed again",
                                          evidence: rewound.prefix(InsightFinding.maxEvidence).map { InsightEvidenceItem(.group(group.id), "\($0.topic) p\($0.partition) rewound") }))
            }
            for p in group.partitions {
                guard let committed = p.committed, let low = lowsBy[TopicPartition(p.topic, p.partition)] else { continue }
                let subject = "\(group.id) / \(p.topic) p\(p.partition)"
                if committed < low {
                    out.append(InsightFinding(rule: .retentionRisk, severity: .error, subject: subject, topic: p.topic,
                                              summary: "\(InsightText.count(Int(low - committed))) records deleted before the group read them",
                                              evidence: [InsightEvidenceItem(.group(group.id), "committed \(committed), low watermark \(low)")]))
                    continue
                }
                // Retention's pace: how fast the low watermark moved while we watched, against the group's.
                guard let seen = lows[TopicPartition(p.topic, p.partition)], seen.lastMillis > seen.firstMillis, seen.last > seen.first else { continue }
                let lowRate = Double(seen.last - seen.first) / (Double(seen.lastMillis - seen.firstMillis) / 1000)
                let closing = lowRate - (p.consumeRate ?? 0)
                guard closing > 0 else { continue }
                let secondsLeft = Double(committed - low) / closing
                guard secondsLeft <= settings.retentionRiskSeconds else { continue }
                out.append(InsightFinding(rule: .retentionRisk, severity: .warning, subject: subject, topic: p.topic,
                                          summary: "reaches the low watermark in ~\(InsightText.duration(secondsLeft)) at this pace",
                                          evidence: [InsightEvidenceItem(.group(group.id), "committed \(committed), low \(low), retention deletes \(String(format: "%.1f", lowRate))/s")]))
            }
            if group.members == 0, let lag = group.totalLag, lag > 0 {
                let ages = group.partitions.compactMap(\.lastCommitAgeSeconds)
                if ages.count == group.partitions.count, let youngest = ages.min(), youngest >= settings.abandonedAfterSeconds {
                    let bound = group.partitions.contains { $0.lastCommitAgeIsLowerBound } ? "≥ " : ""
                    out.append(InsightFinding(rule: .abandonedGroup, severity: .warning, subject: group.id, topic: group.topics.first,
                                              summary: "no members, lag \(InsightText.count(Int(lag))), no commit for \(bound)\(InsightText.duration(youngest))",
                                              evidence: [InsightEvidenceItem(.group(group.id), "state \(group.state)")]))
                }
            }
        }
    }

    // MARK: sagas

    private func sagaFindings(_ sagas: [InsightSaga], into out: inout [InsightFinding]) {
        let timedOut = sagas.filter { $0.state == .timedOut }.sorted { $0.lastMillis < $1.lastMillis }
        if !timedOut.isEmpty {
            out.append(InsightFinding(rule: .stuckSagas, severity: .warning, subject: "sagas", topic: nil,
                                      summary: "\(InsightText.count(timedOut.count)) of \(InsightText.count(sagas.count)) sagas timed out",
                                      evidence: timedOut.prefix(InsightFinding.maxEvidence).map { InsightEvidenceItem(.saga($0.id), ($0.type ?? "saga") + " timed out") }))
        }
        let byType = Dictionary(grouping: sagas) { $0.type ?? "inferred" }
        for (type, group) in byType.sorted(by: { $0.key < $1.key }) where group.count >= settings.minimumSample {
            let failing = group.filter { $0.state == .failed || $0.state == .compensated || $0.state == .compensating }
            guard Double(failing.count) / Double(group.count) > settings.failingSagaShare else { continue }
            let steps = Dictionary(grouping: failing.compactMap(\.failedStep)) { $0 }.mapValues(\.count)
            let worst = steps.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }
            out.append(InsightFinding(rule: .failingSagas, severity: .warning, subject: type, topic: nil,
                                      summary: "\(InsightText.percent(failing.count, of: group.count)) of the \(InsightText.count(group.count)) latest failed or compensated"
                                          + (worst.map { "; most at \($0.key) (\($0.value))" } ?? ""),
                                      evidence: failing.sorted { $0.lastMillis > $1.lastMillis }.prefix(InsightFinding.maxEvidence).map {
                                          InsightEvidenceItem(.saga($0.id), $0.state.rawValue + ($0.failedStep.map { " at " + $0 } ?? ""))
                                      }))
        }
    }
}

/// Event names that hide a command or say nothing (pure, so it is tested on its own).
public enum EventNaming {
    /// Verbs an imperative event type starts with.
    static let verbs: Set<String> = [
        "add", "apply", "approve", "assign", "authorize", "book", "calculate", "cancel", "charge", "check", "complete",
        "confirm", "create", "delete", "do", "execute", "fulfill", "fulfil", "generate", "get", "handle", "issue",
        "make", "notify", "pay", "place", "process", "publish", "refund", "register", "reject", "release", "remove",
        "request", "reserve", "run", "send", "set", "ship", "start", "stop", "submit", "sync", "trigger", "update",
        "validate",
    ]
    /// Names that say nothing of what happened.
    static let generic: Set<String> = [
        "event", "update", "message", "data", "change", "changed", "notification", "record", "payload", "command",
        "generic", "genericevent", "domainevent", "updated", "msg",
    ]

    /// `imperative`, `generic` or `command` (a `…Command` suffix) when the name smells; nil for a fact (`OrderPlaced`).
    public static func smell(_ type: String) -> String? {
        let words = self.words(type)
        guard let first = words.first else { return nil }
        if generic.contains(words.joined()) || generic.contains(type.lowercased()) { return "generic" }
        if words.count > 1, words.last == "command" { return "command-named" }
        // `OrderPlaced`, `PaymentAuthorized`: a noun first. `CreateOrder`, `ProcessPayment`: a verb first,
        // and no past participle after it (`CancelledOrder` is not a command; `CancelOrder` is).
        if words.count > 1, verbs.contains(first), !words.dropFirst().contains(where: { $0.hasSuffix("ed") }) { return "imperative" }
        return nil
    }

    /// Words of a CamelCase, snake_case, kebab-case or dotted name, lowercased.
    static func words(_ name: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previousLower = false
        for c in name {
            if c == "_" || c == "-" || c == "." || c == " " {
                if !current.isEmpty { out.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if c.isUppercase, previousLower, !current.isEmpty {
                out.append(current)
                current = ""
            }
            current.append(contentsOf: c.lowercased())
            previousLower = c.isLowercase || c.isNumber
        }
        if !current.isEmpty { out.append(current) }
        // A dotted name's last part is the type (`com.acme.order.created`): judge the name as written.
        return out
    }
}
