import Foundation
import EventModel
import Dashboard
import TerminalUI

extension SagaState {
    /// The state a user named (`timed-out` or `timed out`, any case); nil for none.
    public static func named(_ text: String) -> SagaState? {
        SagaState.allCases.first { $0.rawValue == text.lowercased().replacingOccurrences(of: "-", with: " ") }
    }
}

/// `evtop saga [ID]`: one saga's timeline, or the recent sagas, as text or JSON.
public enum SagaReport {
    /// Prints the timeline of `id`, or without one the most recently active sagas (at most `limit`, only
    /// those in `state` when given). Returns 1 when no record or span has the ID.
    public static func run(source: SourceSelection, id: String?, json: Bool, limit: Int, state: String?, width: Int) async throws -> Int32 {
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        let log = opened.reader
        let loader = await SagaLoader.make(opened, readOnly: source.readOnly, assembler: try resolved.sagaAssembler())
        try await loader.catchUpFully()
        let now = loader.now
        var display = AppState(source: log.sourceDescription, now: now, size: Size(width: width, height: 24))
        display.utcOffsetSeconds = TimeZone.current.secondsFromGMT()
        guard let id else {
            var rows = try await loader.recent(limit: state == nil ? limit : SagaModel.maxListRows, now: now)
            if let wanted = state.flatMap(SagaState.named) { rows = Array(rows.filter { $0.state == wanted }.prefix(limit)) }
            if json {
                print(TerminalSafe.json(try ScriptJSON.encode(SagaListOutput(source: loader.note, sagas: rows.map(SagaListOutput.Row.init)))))
            } else {
                let body = rows.map { r in
                    [r.id, r.type ?? "-", r.state.label, Clock.hms(Date(timeIntervalSince1970: Double(r.startMillis) / 1000), utcOffsetSeconds: display.utcOffsetSeconds),
                     NumberFormat.preciseDuration(r.durationSeconds), SagaModel.steps(r), r.lastEvent ?? "-", r.services.joined(separator: ",")].map(TextWidth.sanitized)
                }
                print(TextTable.render(header: ["CORRELATION ID", "SAGA", "STATE", "STARTED", "DURATION", "STEPS", "LAST EVENT", "SERVICES"],
                                       rows: body, rightAligned: [4, 5]), terminator: "")
                // Only a fallback is worth a line: the list came from a bounded scan, not the whole index.
                if loader.index == nil { FileHandle.standardError.write(Data("(\(loader.note))\n".utf8)) }
            }
            return 0
        }
        let timeline = try await loader.timeline(id: id, now: now)
        // Nothing carries the ID: say so, and print no timeline (an empty one would read as RUNNING).
        if timeline.items.isEmpty {
            FileHandle.standardError.write(Data("evtop: no records or spans with correlation ID \(TextWidth.sanitized(id)) (\(loader.note))\n".utf8))
            return 1
        }
        if json {
            print(TerminalSafe.json(try ScriptJSON.encode(SagaOutput(timeline, note: loader.note))))
        } else {
            print(SagaText.header(timeline, state: display, width: width).joined(separator: "\n"))
            print("")
            let body = timeline.items.map { item -> [String] in
                var whereText = ""
                if let r = item.record { whereText = "\(r.topic) p\(r.partition)@\(r.offset)" }
                if let s = item.span { whereText = NumberFormat.preciseDuration(Double(s.durationNanos) / 1e9) + " " + s.traceID.prefix(8) + "…/" + s.spanID }
                return [SagaModel.offset(item.startNanos, from: timeline.startNanos), SagaModel.marker(item), item.label, item.row,
                        whereText, item.step ?? "", item.outcome.rawValue].map(TextWidth.sanitized)
            }
            print(TextTable.render(header: ["AT", "", "EVENT / SPAN", "SERVICE", "WHERE", "STEP", "OUTCOME"], rows: body, rightAligned: [0]), terminator: "")
            // What the timeline's detail pane says about failed spans: status message, exceptions, stack traces.
            let failures = failureLines(timeline)
            if !failures.isEmpty {
                print("")
                print(failures.map(TextWidth.sanitized).joined(separator: "\n"))
            }
        }
        return 0
    }
}


extension SagaReport {
    /// `SPAN STATUS AND EXCEPTIONS`, then per span with a status message or an exception: its offset, service
    /// and name, then ``SpanFailure/lines(_:indent:)``. Empty when no span has either.
    static func failureLines(_ timeline: SagaTimeline) -> [String] {
        var lines: [String] = []
        for item in timeline.items {
            guard let span = item.span else { continue }
            let detail = SpanFailure.lines(span, indent: "    ")
            if detail.isEmpty { continue }
            if lines.isEmpty { lines.append("SPAN STATUS AND EXCEPTIONS") }
            lines.append("  " + SagaModel.offset(item.startNanos, from: timeline.startNanos) + "  \(span.service)  \(span.name)  " + span.traceID.prefix(8) + "…/" + span.spanID)
            lines += detail
        }
        return lines
    }
}

/// `evtop saga --json` without an ID.
struct SagaListOutput: Encodable {
    struct Row: Encodable {
        var correlationID: String
        var sagaType: String?
        var state: String
        var started: String
        var durationSeconds: Double
        var stepsDone: Int
        var stepsTotal: Int?
        var lastEvent: String?
        var services: [String]

        init(_ r: SagaListRow) {
            correlationID = r.id
            sagaType = r.type
            state = r.state.rawValue
            started = DLQOutput.iso(r.startMillis)
            durationSeconds = ScriptJSON.round2(r.durationSeconds)
            stepsDone = r.stepsDone
            stepsTotal = r.stepsTotal
            lastEvent = r.lastEvent
            services = r.services
        }
    }

    var source: String
    var sagas: [Row]
}

/// `evtop saga ID --json`.
struct SagaOutput: Encodable {
    struct Step: Encodable {
        var name: String
        var service: String?
        var status: String
        var at: String?
    }

    struct Item: Encodable {
        var kind: String
        var at: String
        var offsetSeconds: Double
        var row: String
        var label: String
        var outcome: String
        var step: String?
        var topic: String?
        var partition: Int32?
        var offset: Int64?
        var traceID: String?
        var spanID: String?
        var durationMillis: Double?
        var status: String?
        /// A span's status message (bounded), when it has one.
        var statusMessage: String?
        /// A span's exception events (bounded), when it recorded any.
        var exceptions: [SpanExceptionOutput]?
    }

    struct SpanExceptionOutput: Encodable {
        var type: String?
        var message: String?
        var at: String
        /// The first lines of the stack trace; `stacktraceLines` says how many it had.
        var stacktrace: [String]?
        var stacktraceLines: Int?

        init(_ x: SpanException) {
            type = x.type
            message = x.message
            at = DLQOutput.iso(Int64(clamping: x.timeUnixNano / 1_000_000))
            stacktrace = x.stacktrace.isEmpty ? nil : x.stacktrace
            stacktraceLines = x.stacktrace.isEmpty ? nil : x.stacktraceLines
        }
    }

    var correlationID: String
    var sagaType: String?
    var state: String
    var started: String?
    var durationSeconds: Double
    var timeoutSeconds: Double?
    var services: [String]
    var steps: [Step]
    var items: [Item]
    var source: String

    init(_ t: SagaTimeline, note: String) {
        func iso(_ nanos: Int64) -> String { DLQOutput.iso(nanos / 1_000_000) }
        correlationID = t.correlationID
        sagaType = t.sagaType
        state = t.state.rawValue
        started = t.items.isEmpty ? nil : iso(t.startNanos)
        durationSeconds = ScriptJSON.round2(t.durationSeconds)
        timeoutSeconds = t.timeoutSeconds
        services = t.services
        steps = t.steps.map { Step(name: $0.name, service: $0.service, status: $0.status.rawValue, at: $0.atNanos.map(iso)) }
        items = t.items.map { i in
            Item(kind: i.kind.rawValue, at: iso(i.startNanos), offsetSeconds: Double(i.startNanos - t.startNanos) / 1e9,
                 row: i.row, label: i.label, outcome: i.outcome.rawValue, step: i.step,
                 topic: i.record?.topic, partition: i.record?.partition, offset: i.record?.offset,
                 traceID: i.span?.traceID, spanID: i.span?.spanID,
                 durationMillis: i.span.map { ScriptJSON.round2(Double($0.durationNanos) / 1e6) },
                 status: i.span.map { s in s.status.code == .error ? "error" : (s.status.code == .ok ? "ok" : "unset") },
                 statusMessage: i.span.flatMap(SpanFailure.statusMessage),
                 exceptions: i.span.map(SpanFailure.exceptions).flatMap { $0.isEmpty ? nil : $0.map(SpanExceptionOutput.init) })
        }
        source = note
    }
}
