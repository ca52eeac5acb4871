import Foundation
import EventModel
import TerminalUI

/// One saga as the sagas list shows it (derived when the list loads).
public struct SagaListRow: Sendable, Hashable {
    /// Correlation ID (the row key).
    public var id: String
    /// Saga definition name, nil when inferred.
    public var type: String?
    /// Where it stands.
    public var state: SagaState
    /// First record or span, ms.
    public var startMillis: Int64
    /// Latest record or span, ms.
    public var lastMillis: Int64
    /// Steps that happened (done or compensated).
    public var stepsDone: Int
    /// Steps in the definition; nil when inferred.
    public var stepsTotal: Int?
    /// Newest event type.
    public var lastEvent: String?
    /// Services involved, in timeline order (only those seen).
    public var services: [String]
    /// Records and spans seen.
    public var items: Int
    /// The step that failed, if one did (the insights rules count where sagas fail).
    public var failedStep: String?

    /// Creates a row.
    public init(id: String, type: String?, state: SagaState, startMillis: Int64, lastMillis: Int64, stepsDone: Int,
                stepsTotal: Int?, lastEvent: String?, services: [String], items: Int) {
        self.id = id
        self.type = type
        self.state = state
        self.startMillis = startMillis
        self.lastMillis = lastMillis
        self.stepsDone = stepsDone
        self.stepsTotal = stepsTotal
        self.lastEvent = lastEvent
        self.services = services
        self.items = items
    }

    /// The row of a timeline (a summary from the index, or a full one).
    public init(timeline t: SagaTimeline) {
        let seen = Set(t.items.filter { $0.kind != .deadLetter }.map(\.row))
        self.init(id: t.correlationID, type: t.sagaType, state: t.state, startMillis: t.startNanos / 1_000_000,
                  lastMillis: t.endNanos / 1_000_000, stepsDone: t.hasDefinition ? t.stepsDone : t.steps.count,
                  stepsTotal: t.hasDefinition ? t.steps.count : nil,
                  // A saga known only from spans: its newest span says what happened last.
                  lastEvent: t.lastEventType ?? t.items.last { $0.kind == .span }?.label,
                  services: t.services.filter(seen.contains), items: t.items.count)
        failedStep = t.steps.first { $0.status == .failed }?.name
    }

    /// Seconds from first to last item.
    public var durationSeconds: Double { Double(max(0, lastMillis - startMillis)) / 1000 }
}

/// Columns the sagas list can be sorted by.
public enum SagaSortKey: String, CaseIterable, Sendable, Hashable {
    case started, last, duration, state, id

    /// The title shown in the sort indicator.
    public var title: String {
        switch self {
        case .started: return "started"
        case .last: return "last event"
        case .duration: return "duration"
        case .state: return "state"
        case .id: return "id"
        }
    }

    /// Title of the table column the sort marker goes on.
    public var column: String {
        switch self {
        case .started: return "STARTED"
        case .last: return "LAST EVENT"
        case .duration: return "DURATION"
        case .state: return "STATE"
        case .id: return "CORRELATION"
        }
    }
}

/// Everything the sagas list and timeline show, and what is being loaded.
public struct SagaViewState: Sendable {
    /// Recent sagas; nil before the first load.
    public var rows: [SagaListRow]?
    /// Where the list came from ("index", or a bounded scan in read-only mode): shown in the title.
    public var note: String?
    /// List cursor.
    public var cursor = TableCursor()
    /// List sort.
    public var sort: SagaSortKey = .started
    /// List sort direction.
    public var sortDescending = true
    /// The open timeline (its correlation ID is `timelineID`).
    public var timeline: SagaTimeline?
    /// The correlation ID whose timeline is open or loading.
    public var timelineID: String?
    /// Keep reloading the open timeline as records and spans arrive.
    public var following = false
    /// The open timeline was loaded while the correlation index was catching up: it is reloaded like a
    /// followed one until a load finds the index caught up (opened from a letter seconds after start,
    /// a timeline must not stay empty because the index had not reached the letter yet).
    public var timelineIncomplete = false
    /// The selected item (an item id) in the timeline.
    public var selectedItem: String?
    /// First visible line of the detail pane.
    public var detailScroll = 0
    /// Why the last load failed, if it did.
    public var error: String?
    /// A list load is under way.
    public var listLoading = false
    /// A timeline load is under way.
    public var timelineLoading = false
    /// Sum of high watermarks when the list was last asked for, and when.
    public var listRequested: (high: Int64, at: Date)?
    /// The same for the timeline.
    public var timelineRequested: (high: Int64, at: Date)?

    /// Creates an empty saga state.
    public init() {}
}

/// Pure derivations for the sagas views.
public enum SagaModel {
    /// Sagas the list keeps (the most recently active).
    public static let maxListRows = 500
    /// A list or followed timeline is reloaded at least this often (seconds), for spans and timeouts.
    public static let refreshSeconds: TimeInterval = 2

    // MARK: - Loading

    /// The load the current saga view needs now, if any; records the request.
    static func plannedLoads(_ state: inout AppState) -> [Effect] {
        guard !state.paused else { return [] }
        let high = state.snapshot?.topics.reduce(Int64(0)) { $0.addingSaturating($1.totalHigh) } ?? 0
        func due(_ last: (high: Int64, at: Date)?) -> Bool {
            guard let last else { return true }
            return last.high != high || state.now.timeIntervalSince(last.at) >= refreshSeconds
        }
        switch state.view {
        case .sagas:
            return listLoad(&state)
        case .sagaTimeline(let id):
            // Another saga opened while one loads: ask at once (the late answer is dropped by its ID).
            let other = state.sagas.timelineID != id
            guard other || !state.sagas.timelineLoading else { return [] }
            let fresh = other || state.sagas.timeline == nil && state.sagas.timelineRequested == nil
            let live = state.sagas.following || state.sagas.timelineIncomplete
            guard fresh || (live && due(state.sagas.timelineRequested)) else { return [] }
            if other {
                state.sagas.timelineID = id
                state.sagas.timeline = nil
                state.sagas.timelineIncomplete = false
                state.sagas.selectedItem = nil
                state.sagas.detailScroll = 0
            }
            state.sagas.timelineLoading = true
            state.sagas.timelineRequested = (high, state.now)
            return [.loadSaga(id)]
        default:
            return []
        }
    }

    /// The sagas list's load when it is due (every view that reads the list: sagas, insights); records the request.
    static func listLoad(_ state: inout AppState) -> [Effect] {
        guard !state.paused else { return [] }
        let high = state.snapshot?.topics.reduce(Int64(0)) { $0.addingSaturating($1.totalHigh) } ?? 0
        let due = state.sagas.listRequested.map { $0.high != high || state.now.timeIntervalSince($0.at) >= refreshSeconds } ?? true
        guard !state.sagas.listLoading, state.snapshot != nil || state.sagas.rows == nil, due else { return [] }
        state.sagas.listLoading = true
        state.sagas.listRequested = (high, state.now)
        return [.loadSagas]
    }

    // MARK: - List

    /// The list rows, filtered (id, type, state, last event, services) and sorted.
    public static func rows(_ state: AppState) -> [SagaListRow] {
        let all = state.sagas.rows ?? []
        let pattern = state.filters[ViewID.sagas.name] ?? ""
        var rows = all
        if !pattern.isEmpty {
            let filter = RowFilter(pattern)
            rows = all.filter { r in
                filter.matches([r.id, r.type ?? "", r.state.label, r.state.rawValue, r.lastEvent ?? "", r.services.joined(separator: " ")]
                    .joined(separator: " "))
            }
        }
        let key = state.sagas.sort, descending = state.sagas.sortDescending
        rows.sort { a, b in
            let ordered: Bool?
            switch key {
            case .started: ordered = a.startMillis == b.startMillis ? nil : a.startMillis < b.startMillis
            case .last: ordered = a.lastMillis == b.lastMillis ? nil : a.lastMillis < b.lastMillis
            case .duration: ordered = a.durationSeconds == b.durationSeconds ? nil : a.durationSeconds < b.durationSeconds
            case .state: ordered = a.state == b.state ? nil : urgency(a.state) < urgency(b.state)
            case .id: ordered = nil
            }
            if let ordered { return descending ? !ordered : ordered }
            return descending && key == .id ? a.id > b.id : a.id < b.id
        }
        return rows
    }

    /// Higher is more urgent: what an operator must look at first sorts first (descending).
    static func urgency(_ s: SagaState) -> Int {
        switch s {
        case .completed: return 0
        case .running: return 1
        case .compensated: return 2
        case .compensating: return 3
        case .timedOut: return 4
        case .failed: return 5
        }
    }

    /// The theme role of a state.
    public static func role(_ s: SagaState) -> Role {
        switch s {
        case .running: return .sagaRunning
        case .completed: return .sagaStepDone
        case .compensating, .compensated: return .sagaCompensation
        case .failed, .timedOut: return .sagaStepFailed
        }
    }

    /// Service names without a suffix they all share (`order, payment` for `order-service, payment-service`).
    public static func shortServices(_ names: [String]) -> [String] {
        for suffix in ["-service", "-svc", "service", "Service"] where names.count > 1 && names.allSatisfy({ $0.hasSuffix(suffix) && $0.count > suffix.count }) {
            return names.map { String($0.dropLast(suffix.count)) }
        }
        return names
    }

    /// `3/4`, or `3` when the definition is unknown.
    public static func steps(_ r: SagaListRow) -> String {
        r.stepsTotal.map { "\(r.stepsDone)/\($0)" } ?? String(r.stepsDone)
    }


    /// `14:41:02.114` at the state's UTC offset.
    public static func clock(nanos: Int64, _ state: AppState) -> String {
        let millis = nanos / 1_000_000
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let pad = ms < 10 ? "00" : (ms < 100 ? "0" : "")
        return Clock.hms(Date(timeIntervalSince1970: Double(millis - Int64(ms)) / 1000), utcOffsetSeconds: state.utcOffsetSeconds) + ".\(pad)\(ms)"
    }

    // MARK: - Timeline

    /// Item ids in timeline order (the timeline's "rows" for j/k).
    static func itemKeys(_ state: AppState) -> [String] { state.sagas.timeline?.items.map(\.id) ?? [] }

    /// The selected item: the remembered one, else the newest.
    public static func selectedItem(_ state: AppState) -> SagaItem? {
        guard let items = state.sagas.timeline?.items, !items.isEmpty else { return nil }
        if let id = state.sagas.selectedItem, let item = items.first(where: { $0.id == id }) { return item }
        return items.last
    }

    /// The glyph of an item on the time axis.
    public static func marker(_ item: SagaItem) -> String {
        switch (item.kind, item.outcome) {
        case (.deadLetter, _): return "☠"
        case (_, .failed): return "✗"
        case (_, .compensation): return "↺"
        case (_, .terminal): return "■"
        case (.span, _): return "├"
        default: return "◆"
        }
    }

    /// The theme role of an item.
    public static func role(_ item: SagaItem) -> Role {
        switch (item.kind, item.outcome) {
        case (.deadLetter, _), (_, .failed): return .sagaStepFailed
        case (_, .compensation): return .sagaCompensation
        case (.span, _): return .sagaSpan
        case (_, .terminal): return .sagaStepDone
        default: return .sagaEvent
        }
    }

    /// The status glyph of a step.
    public static func stepGlyph(_ s: SagaStepStatus) -> String {
        switch s {
        case .pending: return "·"
        case .done: return "✓"
        case .failed: return "✗"
        case .compensated: return "↺"
        }
    }

    /// The theme role of a step.
    public static func role(_ s: SagaStepStatus) -> Role {
        switch s {
        case .pending: return .textDim
        case .done: return .sagaStepDone
        case .failed: return .sagaStepFailed
        case .compensated: return .sagaCompensation
        }
    }

    /// `+1.234 s` from the saga's start.
    public static func offset(_ nanos: Int64, from start: Int64) -> String {
        let s = Double(max(0, nanos - start)) / 1e9
        if s < 10 { return String(format: "+%.3f s", s) }
        if s < 600 { return String(format: "+%.1f s", s) }
        return "+" + NumberFormat.duration(seconds: s)
    }

    /// The detail pane of an item: what it is, where it is, then headers and pretty JSON, or span attributes.
    public static func detailLines(_ item: SagaItem, timeline: SagaTimeline, state: AppState) -> [DetailLine] {
        var lines: [DetailLine] = []
        let at = clock(nanos: item.startNanos, state) + " (" + offset(item.startNanos, from: timeline.startNanos) + ")"
        if let span = item.span {
            let status: String
            switch span.status.code {
            case .error: status = "ERROR" + (span.status.message.isEmpty ? "" : ": " + span.status.message)
            case .ok: status = "OK"
            case .unset: status = "unset"
            }
            lines.append(DetailLine("span \(span.name) · \(span.service) · \(kindName(span.kind)) · \(NumberFormat.preciseDuration(Double(span.durationNanos) / 1e9)) · \(status)",
                                    role: span.status.code == .error ? .sagaStepFailed : .textAccent))
            lines.append(DetailLine("\(at) · trace \(span.traceID) · span \(span.spanID)" + (span.parentSpanID.map { " · parent \($0)" } ?? ""), role: .textDim))
            // Why it failed before everything else: the status message and each exception with its stack trace.
            let failure = SpanFailure.lines(span)
            if !failure.isEmpty {
                lines.append(DetailLine(""))
                lines.append(DetailLine(span.status.code == .error ? "Failure" : "Status", role: .tableHeader))
                for line in failure {
                    let head = line.hasPrefix("  status: ERROR") || line.hasPrefix("  exception: ")
                    lines.append(DetailLine(line, role: head ? .sagaStepFailed : nil))
                }
            }
            lines.append(DetailLine(""))
            lines.append(DetailLine("Attributes (\(span.attributes.count))", role: .tableHeader))
            if span.attributes.isEmpty { lines.append(DetailLine("  none", role: .textDim)) }
            for a in span.attributes { lines.append(DetailLine("  \(a.key): \(a.value.text)")) }
            if !span.events.isEmpty {
                lines.append(DetailLine(""))
                lines.append(DetailLine("Events (\(span.events.count))", role: .tableHeader))
                for e in span.events {
                    lines.append(DetailLine("  " + offset(Int64(clamping: e.timeUnixNano), from: timeline.startNanos) + " " + e.name))
                    for a in e.attributes {
                        let text = a.value.text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                        lines.append(DetailLine("    \(a.key): \(text.first ?? "")" + (text.count > 1 ? " … (\(text.count) lines)" : "")))
                    }
                }
            }
            if !span.links.isEmpty {
                lines.append(DetailLine(""))
                lines.append(DetailLine("Links (\(span.links.count))", role: .tableHeader))
                for l in span.links { lines.append(DetailLine("  trace \(l.traceID) span \(l.spanID)")) }
            }
            return lines
        }
        let step = item.step.map { s in
            let status = timeline.steps.first { $0.name == s }?.status
            return " · step \(s)" + (status.map { " (\($0.rawValue))" } ?? "")
        } ?? ""
        let head = item.kind == .deadLetter ? "\(item.label) · dead-lettered" : item.label
        if let r = item.record {
            lines.append(DetailLine("\(head) · \(r.topic) p\(r.partition)@\(NumberFormat.grouped(r.offset))\(step)", role: role(item) == .sagaEvent ? .textAccent : role(item)))
            var meta = at
            if let v = r.header("schema-version")?.utf8Value { meta += " · schema v\(v)" }
            if let e = r.header("event-id")?.utf8Value { meta += " · event \(e)" }
            lines.append(DetailLine(meta, role: .textDim))
            lines.append(DetailLine(""))
            lines.append(DetailLine("Headers (\(r.headers.count))", role: .tableHeader))
            for h in r.headers {
                let value = h.utf8Value.map { v in
                    let parts = v.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                    return String(parts.first ?? "") + (parts.count > 1 ? " … (\(parts.count) lines)" : "")
                } ?? DeadLetterModel.hex(h.value.prefix(32)) + (h.value.count > 32 ? " … (\(h.value.count) bytes)" : "")
                lines.append(DetailLine("  \(h.name): \(value)"))
            }
            if let key = r.key {
                lines.append(DetailLine(""))
                lines.append(DetailLine("Key", role: .tableHeader))
                lines.append(DetailLine("  " + (String(validating: key, as: UTF8.self) ?? DeadLetterModel.hex(key.prefix(64)))))
            }
            lines.append(DetailLine(""))
            lines += DeadLetterModel.payloadLines(r.value)
        } else {
            lines.append(DetailLine("\(head)\(step)", role: .textAccent))
            lines.append(DetailLine(at + " · " + item.id, role: .textDim))
        }
        return lines
    }

    static func kindName(_ k: SpanKind) -> String {
        switch k {
        case .unspecified: return "unspecified"
        case .internal: return "internal"
        case .server: return "server"
        case .client: return "client"
        case .producer: return "producer"
        case .consumer: return "consumer"
        }
    }
}
