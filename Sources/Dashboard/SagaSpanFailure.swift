import Foundation
import EventModel

/// One exception a span recorded (an OpenTelemetry `exception` event), bounded for display.
public struct SpanException: Sendable, Hashable {
    /// `exception.type`, if recorded.
    public var type: String?
    /// `exception.message`, if recorded.
    public var message: String?
    /// The first lines of `exception.stacktrace` (each cut to ``SpanFailure/maxLineCharacters``); empty when none.
    public var stacktrace: [String]
    /// Lines the whole stack trace has (more than `stacktrace` holds when it was cut).
    public var stacktraceLines: Int
    /// When it was recorded, ns since the Unix epoch.
    public var timeUnixNano: UInt64

    /// `Type: message`, or whichever of the two is known.
    public var summary: String {
        switch (type, message) {
        case let (t?, m?): return "\(t): \(m)"
        case let (t?, nil): return t
        case let (nil, m?): return m
        case (nil, nil): return "exception"
        }
    }
}

/// Why a span failed, as the timeline detail, `evtop saga ID` and its JSON show it: the status message and
/// the exception events, each bounded so a span with a megabyte stack trace or thousands of events stays
/// readable. Pure.
public enum SpanFailure {
    /// Exceptions shown per span at most (the newest are the ones dropped: the first says what started it).
    public static let maxExceptions = 5
    /// Stack trace lines shown per exception at most.
    public static let maxStackLines = 30
    /// Characters of a message, type or stack line shown at most.
    public static let maxLineCharacters = 500

    /// `text` cut to ``maxLineCharacters`` (with `…`), on one line (newlines and tabs as spaces).
    static func bounded(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r\n", with: " ").map { $0.isNewline || $0 == "\t" ? " " : $0 }
        return flat.count > maxLineCharacters ? String(flat.prefix(maxLineCharacters)) + "…" : String(flat)
    }

    /// The span's exception events (name `exception`, or any event carrying `exception.type` or
    /// `exception.message`), at most ``maxExceptions``, in recorded order.
    public static func exceptions(_ span: Span) -> [SpanException] {
        var out: [SpanException] = []
        for e in span.events where out.count < maxExceptions {
            func text(_ key: String) -> String? {
                guard let v = e.attributes.last(where: { $0.key == key })?.value.text, !v.isEmpty else { return nil }
                return v
            }
            let type = text("exception.type"), message = text("exception.message")
            guard e.name == "exception" || type != nil || message != nil else { continue }
            var stack: [String] = []
            var total = 0
            if let trace = text("exception.stacktrace") {
                let lines = trace.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
                total = lines.count
                stack = lines.prefix(maxStackLines).map { bounded(String($0)) }
            }
            out.append(SpanException(type: type.map(bounded), message: message.map(bounded), stacktrace: stack,
                                     stacktraceLines: total, timeUnixNano: e.timeUnixNano))
        }
        return out
    }

    /// The status message, bounded; nil when empty.
    public static func statusMessage(_ span: Span) -> String? {
        span.status.message.isEmpty ? nil : bounded(span.status.message)
    }

    /// Indented text lines: `status: ERROR: …`, then each exception and its stack trace (with a line saying
    /// how many more there are). Empty for a span with no status message and no exception.
    public static func lines(_ span: Span, indent: String = "  ") -> [String] {
        var lines: [String] = []
        let code: String
        switch span.status.code {
        case .error: code = "ERROR"
        case .ok: code = "OK"
        case .unset: code = "unset"
        }
        if let message = statusMessage(span) {
            lines.append(indent + "status: \(code): \(message)")
        } else if span.status.code == .error {
            lines.append(indent + "status: ERROR (no message)")
        }
        for x in exceptions(span) {
            lines.append(indent + "exception: " + x.summary)
            for line in x.stacktrace { lines.append(indent + "    " + line) }
            if x.stacktraceLines > x.stacktrace.count {
                lines.append(indent + "    … \(x.stacktraceLines - x.stacktrace.count) more lines")
            }
        }
        let more = span.events.filter { e in e.name == "exception" || e.attributes.contains { $0.key == "exception.type" || $0.key == "exception.message" } }.count - maxExceptions
        if more > 0 { lines.append(indent + "… \(more) more exceptions") }
        return lines
    }
}
