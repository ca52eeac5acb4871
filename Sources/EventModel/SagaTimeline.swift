import Foundation

/// Where a saga stands.
public enum SagaState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Steps are still arriving.
    case running
    /// A terminal success event arrived.
    case completed
    /// A step failed and compensations are under way.
    case compensating
    /// Compensation finished (a terminal compensation event arrived, or every done step was undone).
    case compensated
    /// A step failed and nothing compensates (yet).
    case failed
    /// Neither finished nor failed within the definition's timeout.
    case timedOut = "timed out"

    /// Upper-case label for tables and titles.
    public var label: String { rawValue.uppercased() }

    /// True when nothing more is expected.
    public var isFinal: Bool { self == .completed || self == .compensated }
}

/// What one event or span means for its saga.
public enum SagaOutcome: String, Sendable, Hashable, Codable {
    /// A step's success (or an event the saga does not classify).
    case completed
    /// A step failed.
    case failed
    /// Undoes an earlier step.
    case compensation
    /// Ends the saga successfully.
    case terminal
    /// No meaning for the saga's state (spans, unknown events).
    case neutral
    /// The record was dead-lettered (it sits on a DLQ topic).
    case deadLettered = "dead-lettered"
}

/// A step and how far it got.
public enum SagaStepStatus: String, Sendable, Hashable, Codable {
    /// Nothing seen yet.
    case pending
    /// Completed.
    case done
    /// Failed.
    case failed
    /// Undone by a compensation.
    case compensated
}

/// One step of a timeline.
public struct SagaStep: Sendable, Hashable {
    /// Step name (a definition's step, or an event type when inferred).
    public var name: String
    /// The service that performs it, if known.
    public var service: String?
    /// How far it got.
    public var status: SagaStepStatus
    /// When its last status-changing event happened, ns since the epoch.
    public var atNanos: Int64?
}

/// One event or span on a saga's time axis.
public struct SagaItem: Sendable, Hashable, Identifiable {
    /// Event (a record), span, or a dead-lettered record.
    public enum Kind: String, Sendable, Hashable { case event, span, deadLetter = "dead letter" }

    /// `topic/partition@offset` for records, `span:TRACE/SPAN` for spans.
    public var id: String
    /// What it is.
    public var kind: Kind
    /// Start, ns since the epoch (a record's timestamp).
    public var startNanos: Int64
    /// End, ns since the epoch (= start for records).
    public var endNanos: Int64
    /// The timeline row: a service, or the topic when no service is known.
    public var row: String
    /// Event type or span name.
    public var label: String
    /// What it means for the saga.
    public var outcome: SagaOutcome
    /// The step it belongs to, if any.
    public var step: String?
    /// The record, for events and dead letters.
    public var record: Record?
    /// The span, for spans.
    public var span: Span?
}

/// Everything known about one correlation ID: items on one time axis, steps and the state.
public struct SagaTimeline: Sendable, Hashable {
    /// The correlation ID.
    public var correlationID: String
    /// The saga definition's name, or nil when the state is inferred.
    public var sagaType: String?
    /// Where the saga stands.
    public var state: SagaState
    /// Items sorted by start time (records before spans at equal times, then by id).
    public var items: [SagaItem]
    /// Steps: the definition's in order, or one per event type when inferred.
    public var steps: [SagaStep]
    /// Rows in display order: the definition's services, then others by first appearance.
    public var rows: [String]
    /// Earliest start, ns since the epoch (0 when empty).
    public var startNanos: Int64
    /// Latest end, ns since the epoch (0 when empty).
    public var endNanos: Int64
    /// Event type of the newest record, if any.
    public var lastEventType: String?
    /// The timeout the state was judged against, if any.
    public var timeoutSeconds: Double?

    /// True when a definition's step count is known.
    public var hasDefinition: Bool { sagaType != nil }
    /// Steps done, failed or compensated (i.e. not pending).
    public var stepsReached: Int { steps.filter { $0.status != .pending }.count }
    /// Steps that completed and were not undone, or were undone (a step that happened).
    public var stepsDone: Int { steps.filter { $0.status == .done || $0.status == .compensated }.count }
    /// Seconds from the first to the last item.
    public var durationSeconds: Double { Double(max(0, endNanos - startNanos)) / 1e9 }
    /// Services (rows that are not DLQ topics) in display order.
    public var services: [String] {
        let dlqRows = Set(items.filter { $0.kind == .deadLetter }.map(\.row))
        return rows.filter { !dlqRows.contains($0) }
    }
}

/// A record of a saga as the correlation index knows it: enough to judge the state without the payload.
public struct SagaEventRef: Sendable, Hashable, Codable {
    /// Topic.
    public var topic: String
    /// Partition.
    public var partition: Int32
    /// Offset.
    public var offset: Int64
    /// Timestamp, ms since the epoch.
    public var timestampMillis: Int64
    /// Event type, if a rule found one.
    public var eventType: String?

    /// Creates a reference.
    public init(topic: String, partition: Int32, offset: Int64, timestampMillis: Int64, eventType: String?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMillis = timestampMillis
        self.eventType = eventType
    }
}

/// Builds saga timelines. Pure: records, spans, definitions and `now` come in; nothing is fetched.
/// Arrival order does not matter: items are ordered by time and the state is judged from the set.
public struct SagaAssembler: Sendable {
    /// Correlation and event-type rules.
    public var rules: CorrelationRules
    /// Known saga definitions (the best-fitting one is used per saga).
    public var definitions: [SagaDefinition]
    /// Which topics hold dead letters (their records are shown, not counted as steps).
    public var deadLetterTopics: DeadLetterTopics

    /// Creates an assembler.
    public init(rules: CorrelationRules = .default, definitions: [SagaDefinition] = [],
                deadLetterTopics: DeadLetterTopics = DeadLetterTopics()) {
        self.rules = rules
        self.definitions = definitions
        self.deadLetterTopics = deadLetterTopics
    }

    /// Event-type suffixes read as a failure when no definition applies.
    public static let failureSuffixes = ["Failed", "Rejected", "Declined", "Denied", "Error", "Errored", "Aborted", "Expired", "TimedOut"]
    /// Suffixes read as a compensation that ends the saga.
    public static let finalCompensationSuffixes = ["Cancelled", "Canceled", "RolledBack"]
    /// Suffixes read as a compensation under way.
    public static let compensationSuffixes = ["Compensated", "Released", "Refunded", "Reverted", "Voided", "Reversed"]
    /// Suffixes read as the saga's successful end.
    public static let completionSuffixes = ["Completed", "Shipped", "Delivered", "Fulfilled", "Finished", "Succeeded"]

    /// Inferred meaning of an event type from its name alone.
    public static func inferredOutcome(_ eventType: String) -> SagaOutcome {
        func ends(_ list: [String]) -> Bool { list.contains { eventType.hasSuffix($0) } }
        if ends(failureSuffixes) { return .failed }
        if ends(finalCompensationSuffixes) || ends(compensationSuffixes) { return .compensation }
        if ends(completionSuffixes) { return .terminal }
        return .completed
    }

    /// The timeline of `correlationID` from its records and spans (any order, duplicates allowed).
    public func assemble(correlationID: String, records: [Record], spans: [Span], now: Date) -> SagaTimeline {
        var seenRecords = Set<String>()
        var inputs: [Input] = []
        for r in records {
            let id = "\(r.topic)/\(r.partition)@\(r.offset)"
            guard seenRecords.insert(id).inserted else { continue }
            let ex = rules.extract(r)
            inputs.append(Input(id: id, topic: r.topic, millis: r.timestampMillis, eventType: ex.eventType,
                                service: Self.recordService(r), record: r))
        }
        var seenSpans = Set<String>()
        var spanList: [Span] = []
        for s in spans where seenSpans.insert(s.traceID + "/" + s.spanID).inserted { spanList.append(s) }
        return build(correlationID: correlationID, inputs: inputs, spans: spanList, now: now)
    }

    /// The timeline of `correlationID` from index references only (no payloads): what the sagas list needs.
    public func summarize(correlationID: String, events: [SagaEventRef], spans: [Span] = [], now: Date) -> SagaTimeline {
        var seen = Set<String>()
        var inputs: [Input] = []
        for e in events {
            let id = "\(e.topic)/\(e.partition)@\(e.offset)"
            guard seen.insert(id).inserted else { continue }
            inputs.append(Input(id: id, topic: e.topic, millis: e.timestampMillis, eventType: e.eventType, service: nil, record: nil))
        }
        return build(correlationID: correlationID, inputs: inputs, spans: spans, now: now)
    }

    struct Input {
        var id: String
        var topic: String
        var millis: Int64
        var eventType: String?
        var service: String?
        var record: Record?
    }

    /// A service named by the record itself (CloudEvents source, or a `service` header).
    static func recordService(_ r: Record) -> String? {
        for name in ["service", "producer", "ce_source", "source"] {
            if let v = CorrelationRules.accept(r.header(name)?.utf8Value) { return v }
        }
        return nil
    }

    private func build(correlationID: String, inputs: [Input], spans: [Span], now: Date) -> SagaTimeline {
        let stateEvents = inputs.filter { !deadLetterTopics.isDeadLetterTopic($0.topic) }
        let definition = SagaDefinition.select(from: definitions, eventTypes: stateEvents.compactMap(\.eventType))
        let topicService: [String: String] = Dictionary(
            (definition?.steps ?? []).compactMap { s in s.topic.flatMap { t in s.service.map { (t, $0) } } },
            uniquingKeysWith: { a, _ in a })

        var items: [SagaItem] = []
        items.reserveCapacity(inputs.count + spans.count)
        for i in inputs {
            let nanos = i.millis.multipliedReportingOverflow(by: 1_000_000)
            let t = nanos.overflow ? (i.millis < 0 ? Int64.min : Int64.max) : nanos.partialValue
            let label = i.eventType ?? i.topic
            if deadLetterTopics.isDeadLetterTopic(i.topic) {
                items.append(SagaItem(id: i.id, kind: .deadLetter, startNanos: t, endNanos: t, row: i.topic,
                                      label: label, outcome: .deadLettered, step: nil, record: i.record, span: nil))
                continue
            }
            var outcome: SagaOutcome
            var step: SagaDefinition.Step?
            if let definition, let type = i.eventType {
                (outcome, step) = definition.meaning(of: type)
            } else {
                outcome = i.eventType.map(Self.inferredOutcome) ?? .neutral
            }
            if outcome == .completed, step == nil, definition == nil, i.eventType == nil { outcome = .neutral }
            let row = step?.service ?? topicService[i.topic] ?? i.service ?? i.topic
            items.append(SagaItem(id: i.id, kind: .event, startNanos: t, endNanos: t, row: row, label: label,
                                  outcome: outcome, step: step?.name ?? (definition == nil ? i.eventType : nil),
                                  record: i.record, span: nil))
        }
        for s in spans {
            let start = Int64(clamping: s.startUnixNano), end = max(start, Int64(clamping: s.endUnixNano))
            items.append(SagaItem(id: "span:\(s.traceID)/\(s.spanID)", kind: .span, startNanos: start, endNanos: end,
                                  row: s.service, label: s.name, outcome: s.status.code == .error ? .failed : .neutral,
                                  step: nil, record: nil, span: s))
        }
        items.sort { a, b in
            if a.startNanos != b.startNanos { return a.startNanos < b.startNanos }
            if a.kind != b.kind { return a.kind == .event || (a.kind == .deadLetter && b.kind == .span) }
            return a.id < b.id
        }

        // Rows: the definition's services first (pending steps show as empty rows), then by first appearance.
        var rows: [String] = []
        for s in definition?.steps ?? [] { if let svc = s.service, !rows.contains(svc) { rows.append(svc) } }
        for item in items where !rows.contains(item.row) { rows.append(item.row) }

        let events = items.filter { $0.kind == .event }
        // A saga known only from its dead letters still names its last event (the letter's type).
        let start = items.map(\.startNanos).min() ?? 0
        let end = items.map(\.endNanos).max() ?? 0
        var steps: [SagaStep] = []
        var state: SagaState
        if let definition {
            (steps, state) = Self.judge(definition, events: events)
        } else {
            (steps, state) = Self.infer(events: events, spans: items.filter { $0.kind == .span })
        }
        let timeout = definition?.timeoutSeconds
        if let timeout, state == .running || state == .compensating, !items.isEmpty {
            let nowNanos = Int64(clamping: Int64((now.timeIntervalSince1970 * 1e9).rounded(.down)))
            if Double(nowNanos.subtractingSaturating(start)) / 1e9 > timeout { state = .timedOut }
        }
        return SagaTimeline(correlationID: correlationID, sagaType: definition?.name, state: state, items: items,
                            steps: steps, rows: rows, startNanos: start, endNanos: end,
                            lastEventType: (events.last ?? items.last { $0.kind == .deadLetter })?.label,
                            timeoutSeconds: timeout)
    }

    /// Steps and state by a definition: a set judgement, so arrival order does not matter.
    static func judge(_ d: SagaDefinition, events: [SagaItem]) -> ([SagaStep], SagaState) {
        let types = Set(events.map(\.label))
        func lastTime(_ names: [String]) -> Int64? { events.last { names.contains($0.label) }?.startNanos }
        var steps: [SagaStep] = []
        var compensated: Set<String> = []
        for c in d.compensations where types.contains(c.event) { compensated.insert(c.compensates) }
        for s in d.steps {
            let undoneBy = s.compensatedBy + d.compensations.filter { $0.compensates == s.name }.map(\.event)
            var status = SagaStepStatus.pending
            var at: Int64?
            if let t = lastTime(s.completedBy) { status = .done; at = t }
            if let t = lastTime(s.failedBy) { status = .failed; at = t }
            if compensated.contains(s.name) || s.compensatedBy.contains(where: types.contains) {
                status = .compensated
                at = lastTime(undoneBy)
            }
            steps.append(SagaStep(name: s.name, service: s.service, status: status, atNanos: at))
        }
        let failure = events.contains { $0.outcome == .failed }
        let compensation = events.contains { $0.outcome == .compensation }
        let state: SagaState
        if d.terminalCompleted.contains(where: types.contains) {
            state = .completed
        } else if d.terminalCompensated.contains(where: types.contains) {
            state = .compensated
        } else if d.terminalFailed.contains(where: types.contains) {
            state = .failed
        } else if compensation {
            // Every step that happened and can be undone has been: compensated; else still at it.
            let pendingUndo = steps.contains { step in
                guard step.status == .done, let def = d.steps.first(where: { $0.name == step.name }) else { return false }
                return !def.compensatedBy.isEmpty || d.compensations.contains { $0.compensates == def.name }
            }
            state = pendingUndo ? .compensating : .compensated
        } else if failure {
            state = .failed
        } else {
            state = .running
        }
        return (steps, state)
    }

    /// Steps (one per event type) and state from event type names and span status alone.
    static func infer(events: [SagaItem], spans: [SagaItem]) -> ([SagaStep], SagaState) {
        var steps: [SagaStep] = []
        for e in events where e.outcome != .neutral {
            let status: SagaStepStatus
            switch e.outcome {
            case .failed: status = .failed
            case .compensation: status = .compensated
            default: status = .done
            }
            if let i = steps.firstIndex(where: { $0.name == e.label }) {
                steps[i].status = status
                steps[i].atNanos = e.startNanos
            } else {
                steps.append(SagaStep(name: e.label, service: e.row, status: status, atNanos: e.startNanos))
            }
        }
        func any(_ suffixes: [String]) -> Bool { events.contains { e in suffixes.contains { e.label.hasSuffix($0) } } }
        let failure = events.contains { $0.outcome == .failed } || spans.contains { $0.outcome == .failed }
        let state: SagaState
        if any(finalCompensationSuffixes) {
            state = .compensated
        } else if events.contains(where: { $0.outcome == .compensation }) {
            state = .compensating
        } else if failure {
            state = .failed
        } else if events.contains(where: { $0.outcome == .terminal }) {
            state = .completed
        } else {
            state = .running
        }
        return (steps, state)
    }
}

/// One correlation ID as the correlation index summarises it (the sagas list reads these, newest first).
public struct CorrelationSummary: Sendable, Hashable, Codable {
    /// The correlation ID.
    public var correlationID: String
    /// Timestamp of its first record, ms.
    public var firstMillis: Int64
    /// Timestamp of its newest record, ms.
    public var lastMillis: Int64
    /// Records indexed under it.
    public var records: Int
    /// Event type of its newest record, if known.
    public var lastEventType: String?

    /// Creates a summary.
    public init(correlationID: String, firstMillis: Int64, lastMillis: Int64, records: Int, lastEventType: String?) {
        self.correlationID = correlationID
        self.firstMillis = firstMillis
        self.lastMillis = lastMillis
        self.records = records
        self.lastEventType = lastEventType
    }
}
