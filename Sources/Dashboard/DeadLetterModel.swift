import Foundation
import EventModel
import TerminalUI

/// One dead letter as the letter list shows it (derived once when letters load).
public struct DeadLetterRow: Sendable, Hashable {
    /// Row key: `partition/offset`.
    public var key: String
    /// Partition of the DLQ record.
    public var partition: Int32
    /// Offset of the DLQ record.
    public var offset: Int64
    /// When the letter failed (``DeadLetter/failedAtMillis``), ms; nil when unknown.
    public var failedAtMillis: Int64?
    /// Where the failed record came from: `orders p1@77`, or "–".
    public var original: String
    /// Short exception class, e.g. `IllegalStateException` (root cause when known).
    public var exceptionClass: String?
    /// `IllegalStateException: sku-42 out of stock` (first line of the message).
    public var exception: String
    /// Header `event-type`, or the payload's JSON `eventType`, or "".
    public var eventType: String
    /// Header `correlation-id`, or "".
    public var correlation: String
    /// Redrive state from the journal: pending, queued, moving, redriven, failed.
    public var state: String
}

/// One DLQ topic as the overview shows it.
public struct DeadLetterQueueRow: Sendable, Hashable {
    /// DLQ topic name.
    public var topic: String
    /// Records retained on the topic (from the watermarks).
    public var retained: Int64
    /// Letters loaded (at most `DeadLetterModel.maxLettersPerTopic`); nil before the first load.
    public var loaded: Int?
    /// Timestamp of the oldest loaded letter, ms.
    public var oldestMillis: Int64?
    /// Timestamp of the newest loaded letter, ms.
    public var newestMillis: Int64?
    /// Letters per minute over the last 60 s.
    public var growthPerMinute: Double?
    /// Most frequent short exception class among loaded letters.
    public var topException: String?
    /// Letters not requeued and not skipped: retained minus the loaded letters the journal counts as handled;
    /// nil before the letters load.
    public var pending: Int64?
    /// True when not every retained letter was loaded: older ones may be handled too, so `pending` is at most that.
    public var pendingIsUpperBound = false
}

/// A line of the letter detail.
public struct DetailLine: Sendable, Hashable {
    /// Text (sanitized when drawn).
    public var text: String
    /// How it is drawn (nil: plain text).
    public var role: Role?

    /// Creates a line.
    public init(_ text: String, role: Role? = nil) {
        self.text = text
        self.role = role
    }

    /// The line as rows of at most `width` columns: a long line (a stack frame, a header value) wraps, its
    /// continuations indented two columns deeper than it, instead of every long line being cut at one column.
    public func wrapped(to width: Int) -> [DetailLine] {
        let text = TextWidth.sanitized(self.text)
        guard width > 8, TextWidth.of(text) > width else { return [DetailLine(text, role: role)] }
        let indent = String(repeating: " ", count: min(width / 2, text.prefix(while: { $0 == " " }).count + 2))
        // Break after a space or punctuation in the row's second half when there is one (whole words and
        // package segments stay together), else at the edge.
        let breaks: Set<Character> = [" ", ".", ",", "/", ":", ";", "-", "$", "(", ")"]
        var rows: [DetailLine] = []
        var current: [Character] = [], used = 0
        for ch in text {
            let w = TextWidth.of(ch)
            if used + w > width {
                let floor = indent.count + (width - indent.count) / 2
                var cut = current.count
                if let i = current.lastIndex(where: { breaks.contains($0) }), i + 1 > floor, i + 1 < current.count { cut = i + 1 }
                rows.append(DetailLine(String(current[..<cut]), role: role))
                current = Array(indent) + current[cut...]
                used = current.reduce(0) { $0 + TextWidth.of($1) }
            }
            current.append(ch)
            used += w
        }
        if !current.isEmpty { rows.append(DetailLine(String(current), role: role)) }
        return rows
    }
}

/// Pure derivations for the dead-letter views.
public enum DeadLetterModel {
    /// Letters kept per DLQ topic (the newest).
    public static let maxLettersPerTopic = 500
    /// Payloads larger than this are never parsed as JSON (shown as a hex dump).
    public static let maxJSONBytes = 1 << 20
    /// Payload lines shown at most (pretty JSON).
    public static let maxPayloadLines = 400
    /// Characters of a text payload shown at most (a long line wraps into many rows).
    public static let maxTextCharacters = 16 * 1024
    /// Hex dump lines shown at most (16 bytes each).
    public static let maxHexLines = 256
    /// Stack trace lines shown at most.
    public static let maxStackLines = 300

    // MARK: - Loading

    /// DLQ topics of the last snapshot, sorted by name.
    public static func deadLetterTopics(_ state: AppState) -> [TopicInfo] {
        (state.snapshot?.topics ?? []).filter { state.deadLetterTopics.isDeadLetterTopic($0.name) }.sorted { $0.name < $1.name }
    }

    /// Topics whose letters must be (re)loaded now: those the current dead-letter view needs whose
    /// high watermark changed since they were last asked for. Records the request.
    static func plannedLoads(_ state: inout AppState) -> [Effect] {
        guard state.view.isDeadLetterView, !state.paused else { return [] }
        var wanted = deadLetterTopics(state)
        switch state.view {
        case .deadLetterList(let topic), .deadLetterDetail(let topic, _, _):
            wanted = wanted.filter { $0.name == topic }
        default: break
        }
        return loads(of: wanted, &state)
    }

    /// Loads of the letters of `wanted` whose end moved since they were last asked for (any view that
    /// reads letters: the DLQ views, insights). Records the request.
    static func loads(of wanted: [TopicInfo], _ state: inout AppState) -> [Effect] {
        var due: [String] = []
        for topic in wanted {
            // A log's letters change when its end moves; a queue's when its depth or publish count does.
            let mark = topic.partitions.allSatisfy(\.hasPositions) ? topic.totalHigh
                : topic.retained.addingSaturating(topic.totalWritten ?? 0)
            guard state.deadLetterRequestedHighs[topic.name] != mark else { continue }
            state.deadLetterRequestedHighs[topic.name] = mark
            due.append(topic.name)
        }
        return due.isEmpty ? [] : [.loadDeadLetters(due)]
    }

    /// Topics probed per snapshot at most: probing costs a fetch per partition, once per topic.
    public static let probesPerSnapshot = 20

    /// Non-empty topics whose names match no DLQ pattern and that were never probed for
    /// dead-letter headers: a few per snapshot, each once. Records them as probed.
    static func plannedProbes(_ state: inout AppState) -> [Effect] {
        guard !state.paused, let topics = state.snapshot?.topics else { return [] }
        var due: [String] = []
        for topic in topics where due.count < probesPerSnapshot && topic.retained > 0 && !state.probedTopics.contains(topic.name) {
            state.probedTopics.insert(topic.name)
            if !state.deadLetterTopics.matchesPattern(topic.name) { due.append(topic.name) }
        }
        return due.isEmpty ? [] : [.probeDeadLetterTopics(due)]
    }

    /// Stores loaded letters: newest first, at most `maxLettersPerTopic`, with their rows.
    static func store(_ state: inout AppState, topic: String, letters: [DeadLetter]) {
        let kept = Array(newestFirst(letters).prefix(maxLettersPerTopic))
        state.deadLetters[topic] = kept
        refreshRows(&state, topic: topic)
    }

    /// Rebuilds a topic's rows from its letters and their journal states.
    static func refreshRows(_ state: inout AppState, topic: String) {
        guard let letters = state.deadLetters[topic] else { return }
        let states = state.redriveStates[topic] ?? [:]
        state.deadLetterRows[topic] = letters.map { d in
            row(d, redrive: states[RecordPosition(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset)])
        }
    }

    /// Positions of a topic's loaded letters.
    static func positions(_ state: AppState, topic: String) -> [RecordPosition] {
        (state.deadLetters[topic] ?? []).map { RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset) }
    }

    /// Timestamps of a topic's loaded letters, by position (part of their redrive ids).
    static func timestamps(_ state: AppState, topic: String) -> [RecordPosition: Int64] {
        Dictionary((state.deadLetters[topic] ?? []).map {
            (RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset), $0.record.timestampMillis)
        }, uniquingKeysWith: { a, _ in a })
    }

    /// Letters ordered newest first (timestamp, then offset, then partition).
    public static func newestFirst(_ letters: [DeadLetter]) -> [DeadLetter] {
        letters.sorted { a, b in
            if a.record.timestampMillis != b.record.timestampMillis { return a.record.timestampMillis > b.record.timestampMillis }
            if a.record.offset != b.record.offset { return a.record.offset > b.record.offset }
            return a.record.partition < b.record.partition
        }
    }

    // MARK: - Overview

    /// One row per DLQ topic, filtered by the dlq filter (topic and top exception).
    public static func queueRows(_ state: AppState) -> [DeadLetterQueueRow] {
        let filter = RowFilter(state.filters[ViewID.deadLetters.name] ?? "")
        return deadLetterTopics(state).map { topic in
            let letters = state.deadLetters[topic.name]
            let rows = state.deadLetterRows[topic.name] ?? []
            let stamps = letters?.compactMap(\.failedAtMillis) ?? []
            var counts: [String: Int] = [:]
            for r in rows where !handledStates.contains(r.state) { if let e = r.exceptionClass { counts[e, default: 0] += 1 } }
            let top = counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
            var row = DeadLetterQueueRow(topic: topic.name, retained: topic.retained, loaded: letters?.count,
                                         oldestMillis: stamps.min(), newestMillis: stamps.max(),
                                         growthPerMinute: state.meter.rates(topic: topic.name).perSecond60.map { $0 * 60 },
                                         topException: top)
            if let loaded = letters?.count {
                row.pending = max(0, topic.retained - Int64(handledCount(state, topic: topic.name)))
                row.pendingIsUpperBound = Int64(loaded) < topic.retained
            } else if topic.retained == 0 {
                row.pending = 0
            }
            return row
        }.filter { filter.matches($0.topic + " " + ($0.topException ?? "")) }
    }

    /// Total letters retained on every DLQ topic.
    public static func totalRetained(_ state: AppState) -> Int64 {
        deadLetterTopics(state).reduce(0) { $0.addingSaturating($1.retained) }
    }

    /// "2h 3m ago" for a timestamp, relative to `now`.
    public static func age(_ millis: Int64?, now: Date) -> String {
        guard let millis else { return "–" }
        let seconds = now.timeIntervalSince1970 - Double(millis) / 1000
        return NumberFormat.duration(seconds: max(0, seconds)) + " ago"
    }

    /// "+0.2/min".
    public static func growth(_ perMinute: Double?) -> String {
        guard let perMinute else { return "–" }
        if perMinute == 0 { return "0/min" }
        return "+" + NumberFormat.rate(perMinute) + "/min"
    }

    // MARK: - Letter list

    /// States of letters the journal counts as handled: requeued, or set aside by the operator.
    public static let handledStates: Set<String> = [RedriveItemState.done.label, RedriveItemState.skipped.label]

    /// Loaded letters of `topic` the journal counts as handled (hidden unless ``AppState/showHandledLetters``).
    public static func handledCount(_ state: AppState, topic: String) -> Int {
        (state.deadLetterRows[topic] ?? []).reduce(0) { $0 + (handledStates.contains($1.state) ? 1 : 0) }
    }

    /// Rows of a DLQ topic, newest first, without handled letters unless they are shown, filtered by the
    /// letters filter over every column.
    public static func letterRows(_ state: AppState, topic: String) -> [DeadLetterRow] {
        var rows = state.deadLetterRows[topic] ?? []
        if !state.showHandledLetters { rows.removeAll { handledStates.contains($0.state) } }
        let pattern = state.filters[ViewID.deadLetterList(topic: topic).name] ?? ""
        guard !pattern.isEmpty else { return rows }
        let filter = RowFilter(pattern)
        return rows.filter { filter.matches(filterText($0, utcOffsetSeconds: state.utcOffsetSeconds)) }
    }

    /// A row's failure time of day, "–" when the letter carries none.
    public static func failedAt(_ r: DeadLetterRow, utcOffsetSeconds: Int) -> String {
        guard let millis = r.failedAtMillis else { return "–" }
        return Clock.hms(Date(timeIntervalSince1970: Double(millis) / 1000), utcOffsetSeconds: utcOffsetSeconds)
    }

    /// The text a letters filter matches against: every column as shown. `evtop dlq requeue --filter`
    /// matches the same text, so a filter tried in the view selects the same letters from a script.
    public static func filterText(_ r: DeadLetterRow, utcOffsetSeconds: Int) -> String {
        [String(r.offset), failedAt(r, utcOffsetSeconds: utcOffsetSeconds),
         r.original, r.exception, r.eventType, r.correlation, r.state].joined(separator: " ")
    }

    /// The letter at `partition`/`offset` of `topic`, if loaded.
    public static func letter(_ state: AppState, topic: String, partition: Int32, offset: Int64) -> DeadLetter? {
        state.deadLetters[topic]?.first { $0.record.partition == partition && $0.record.offset == offset }
    }

    /// Row key of a letter.
    public static func key(partition: Int32, offset: Int64) -> String { "\(partition)/\(offset)" }

    /// `IllegalStateException` from `java.lang.IllegalStateException`.
    public static func shortClass(_ fqcn: String) -> String {
        fqcn.split(separator: ".").last.map(String.init) ?? fqcn
    }

    /// The class that explains the failure: Spring's root cause, else the exception itself.
    public static func failureClass(_ letter: DeadLetter) -> String? {
        (letter.causeClass ?? letter.exceptionClass).map(shortClass)
    }

    /// The list row of a letter, with its redrive state from the journal (nil: never redriven).
    public static func row(_ letter: DeadLetter, redrive: RedriveItemState? = nil) -> DeadLetterRow {
        let r = letter.record
        var original = "–"
        if let topic = letter.originalTopic {
            original = topic
            if let p = letter.originalPartition {
                original += " p\(p)" + (letter.originalOffset.map { "@\($0)" } ?? "")
            } else if let o = letter.originalOffset {
                original += " @\(o)"
            }
        }
        let cls = failureClass(letter)
        let message = letter.exceptionMessage.map { firstLine($0) } ?? ""
        let exception = [cls, message.isEmpty ? nil : message].compactMap { $0 }.joined(separator: ": ")
        // The same rules the sagas use (headers first, then the payload's fields), so a type or
        // correlation ID only in the payload still shows, and `c` can open its saga.
        let found = CorrelationRules.default.extract(r)
        return DeadLetterRow(key: key(partition: r.partition, offset: r.offset), partition: r.partition, offset: r.offset,
                             failedAtMillis: letter.failedAtMillis, original: original, exceptionClass: cls,
                             exception: exception.isEmpty ? "–" : exception, eventType: found.eventType ?? "",
                             correlation: found.correlationID ?? "", state: redrive?.label ?? "pending")
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? "")
    }

    /// `eventType` of a JSON object payload (small payloads only).
    // MARK: - Detail

    /// The detail text of a letter: summary, headers, key, payload, stack trace, problems.
    /// The detail's lines wrapped to `width` columns: what the screen draws and scrolls through.
    public static func detailRows(_ letter: DeadLetter, state: AppState, width: Int) -> [DetailLine] {
        let lines = detailLines(letter, state: state)
        guard state.deadLetterDetailWrap else { return lines.map { DetailLine(TextWidth.sanitized($0.text), role: $0.role) } }
        return lines.flatMap { $0.wrapped(to: width) }
    }

    public static func detailLines(_ letter: DeadLetter, state: AppState) -> [DetailLine] {
        typealias S = DeadLetterHeaderNames.Spring
        let r = letter.record
        // The letter's row as the list shows it (journal state included), derived once when the letters
        // loaded: a frame of the detail does not run the correlation rules over the payload again.
        let row = state.deadLetterRows[r.topic]?.first { $0.partition == r.partition && $0.offset == r.offset }
            ?? row(letter, redrive: state.redriveStates[r.topic]?[RecordPosition(topic: r.topic, partition: r.partition, offset: r.offset)])
        var lines: [DetailLine] = []
        let failed = letter.failedAtMillis.map { "failed \(Clock.hms(Date(timeIntervalSince1970: Double($0) / 1000), utcOffsetSeconds: state.utcOffsetSeconds)) (\(age($0, now: state.now)))" }
            ?? "failed at an unknown time"
        lines.append(DetailLine("\(r.topic) p\(r.partition)@\(r.offset) · \(failed) · \(conventionName(letter.convention))",
                                role: .textAccent))
        lines.append(DetailLine("from \(row.original)" + (letter.consumerGroup.map { " · group \($0)" } ?? "")
                                + (letter.attempts.map { " · \($0) attempt\($0 == 1 ? "" : "s")" } ?? "")
                                + " · \(row.state)"))
        lines.append(DetailLine(row.exception))
        if let wrapper = letter.exceptionClass, letter.causeClass != nil, letter.causeClass != wrapper {
            lines.append(DetailLine("wrapped in \(wrapper)", role: .textDim))
        }
        if let connector = letter.connectorName {
            lines.append(DetailLine("connector \(connector)" + (letter.taskId.map { " task \($0)" } ?? "")
                                    + (letter.stage.map { " · stage \($0)" } ?? ""), role: .textDim))
        }
        if !letter.deaths.isEmpty {
            lines.append(DetailLine(""))
            lines.append(DetailLine("Deaths (x-death, most recent first)", role: .tableHeader))
            for d in letter.deaths {
                var parts = [TextWidth.sanitized(d.queue ?? "?"), TextWidth.sanitized(d.reason ?? "?") + (d.count.map { " ×\($0)" } ?? "")]
                if let t = d.timeMillis {
                    parts.append(Clock.hms(Date(timeIntervalSince1970: Double(t) / 1000), utcOffsetSeconds: state.utcOffsetSeconds))
                }
                if let e = d.exchange { parts.append("exchange " + (e.isEmpty ? "(default)" : TextWidth.sanitized(e))) }
                if !d.routingKeys.isEmpty { parts.append("keys " + d.routingKeys.map(TextWidth.sanitized).joined(separator: ", ")) }
                lines.append(DetailLine("  " + parts.joined(separator: " · ")))
            }
        }
        if letter.convention == .rabbitMQ {
            // Browsing over AMQP takes messages without acknowledging them and returns them at once.
            lines.append(DetailLine("read by browsing: RabbitMQ marks each browsed message redelivered; none is taken or reordered", role: .textDim))
        }

        lines.append(DetailLine(""))
        lines.append(DetailLine("Headers (\(r.headers.count))", role: .tableHeader))
        if r.headers.isEmpty { lines.append(DetailLine("  none", role: .textDim)) }
        for h in r.headers {
            var value: String
            let binary: Set<String> = [S.originalPartition, S.originalOffset, S.originalTimestamp, S.retryAttempts, S.attempts]
            // Spring writes these as big-endian integers, but producers such as kcat send decimal text.
            let decimalText = !h.value.isEmpty && h.value.allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2D }
            if decimalText, let text = h.utf8Value {
                value = text
            } else if !binary.contains(h.name), !h.value.contains(0), let text = h.utf8Value {
                let parts = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                value = TextWidth.sanitized(String(parts.first ?? ""))
                if parts.count > 1 { value += " … (\(parts.count) lines)" }
            } else {
                value = hex(h.value.prefix(32)) + (h.value.count > 32 ? " … (\(h.value.count) bytes)" : "")
            }
            // A binary value gets its decoded number; decimal text already is one.
            switch h.name {
            case S.originalPartition: if let p = letter.originalPartition, !decimalText { value += "  = \(p)" }
            case S.originalOffset: if let o = letter.originalOffset, !decimalText { value += "  = \(o)" }
            case S.originalTimestamp:
                if let t = letter.originalTimestampMillis {
                    let clock = Clock.hms(Date(timeIntervalSince1970: Double(t) / 1000), utcOffsetSeconds: state.utcOffsetSeconds)
                    value += decimalText ? "  (\(clock))" : "  = \(t) (\(clock))"
                }
            default: break
            }
            lines.append(DetailLine("  \(TextWidth.sanitized(h.name)): \(value)"))
        }

        if let key = r.key {
            lines.append(DetailLine(""))
            lines.append(DetailLine("Key (\(NumberFormat.bytes(Int64(key.count))))", role: .tableHeader))
            if let text = String(validating: key, as: UTF8.self) {
                lines.append(DetailLine("  " + TextWidth.sanitized(text)))
            } else {
                lines.append(DetailLine("  " + hex(key.prefix(64)) + (key.count > 64 ? " …" : "")))
            }
        }

        lines.append(DetailLine(""))
        lines += payloadLines(r.value)

        if let trace = letter.stackTrace {
            let all = trace.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            lines.append(DetailLine(""))
            lines.append(DetailLine("Stack trace (\(all.count) lines)", role: .tableHeader))
            for line in all.prefix(maxStackLines) {
                lines.append(DetailLine("  " + TextWidth.sanitized(line.replacingOccurrences(of: "\t", with: "    "))))
            }
            if all.count > maxStackLines {
                lines.append(DetailLine("  … \(all.count - maxStackLines) more lines", role: .textDim))
            }
        }

        if !letter.problems.isEmpty {
            lines.append(DetailLine(""))
            lines.append(DetailLine("Problems (\(letter.problems.count))", role: .tableHeader))
            for p in letter.problems { lines.append(DetailLine("  ! " + TextWidth.sanitized(p), role: .lagWarn)) }
        }
        return lines
    }

    /// "Payload" section: pretty JSON when it parses; else text (escaped, wrapped when drawn) when it is
    /// UTF-8 without a NUL; else a hex dump with an ASCII column; bounded either way. `cut`: the value is
    /// the start of a longer one, so a character split at its end is no reason for hex.
    static func payloadLines(_ value: [UInt8]?, cut: Bool = false) -> [DetailLine] {
        guard let value else { return [DetailLine("Payload: none (tombstone)", role: .tableHeader)] }
        let size = NumberFormat.bytes(Int64(value.count))
        if value.count <= maxJSONBytes, let first = value.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }),
           first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
           let object = try? JSONSerialization.jsonObject(with: Data(value)),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            let text = String(decoding: pretty, as: UTF8.self)
            let all = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            var lines = [DetailLine("Payload (\(size), JSON)", role: .tableHeader)]
            for line in all.prefix(maxPayloadLines) { lines.append(DetailLine("  " + TextWidth.sanitized(String(line)))) }
            if all.count > maxPayloadLines {
                lines.append(DetailLine("  … \(all.count - maxPayloadLines) more lines", role: .textDim))
            }
            return lines
        }
        if !value.contains(0), let text = String(validating: value, as: UTF8.self) ?? (cut ? utf8Prefix(value) : nil) {
            return textLines(text, size: size)
        }
        var lines = [DetailLine("Payload (\(size), hex)", role: .tableHeader)]
        let shown = min(value.count, maxHexLines * 16)
        var offset = 0
        while offset < shown {
            let chunk = value[offset..<min(shown, offset + 16)]
            lines.append(DetailLine("  " + hexDumpLine(offset: offset, chunk)))
            offset += 16
        }
        if value.count > shown {
            lines.append(DetailLine("  … \(NumberFormat.grouped(Int64(value.count - shown))) more bytes", role: .textDim))
        }
        return lines
    }

    /// A text payload line by line (tabs as four spaces, control characters escaped), at most
    /// ``maxPayloadLines`` lines and ``maxTextCharacters`` characters.
    private static func textLines(_ text: String, size: String) -> [DetailLine] {
        var lines = [DetailLine("Payload (\(size), text)", role: .tableHeader)]
        let all = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        var budget = maxTextCharacters
        var shown = 0
        var lineCut = false
        for line in all where shown < maxPayloadLines && budget > 0 {
            let part = line.prefix(budget)
            budget -= part.count
            lineCut = part.count < line.count
            lines.append(DetailLine("  " + TextWidth.sanitized(String(part).replacingOccurrences(of: "\t", with: "    "))))
            shown += 1
        }
        if lineCut { lines.append(DetailLine("  … the rest of this line is not shown (\(NumberFormat.grouped(Int64(maxTextCharacters))) characters are)", role: .textDim)) }
        if shown < all.count { lines.append(DetailLine("  … \(NumberFormat.grouped(Int64(all.count - shown))) more lines", role: .textDim)) }
        return lines
    }

    /// The longest UTF-8 prefix of bytes cut inside a character (up to 3 bytes dropped).
    private static func utf8Prefix(_ bytes: [UInt8]) -> String? {
        for drop in 1...3 where bytes.count > drop {
            if let s = String(validating: bytes.dropLast(drop), as: UTF8.self) { return s }
        }
        return nil
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// `00 00 00 01`.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { String([hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0x0F)]]) }.joined(separator: " ")
    }

    /// `000010  7b 22 61 …  |{"a…|`: offset, 16 bytes, printable ASCII (others as `.`).
    static func hexDumpLine(offset: Int, _ chunk: ArraySlice<UInt8>) -> String {
        var offsetText = String(offset, radix: 16)
        offsetText = String(repeating: "0", count: max(0, 6 - offsetText.count)) + offsetText
        var bytes = ""
        for (i, b) in chunk.enumerated() {
            bytes += String([hexDigits[Int(b >> 4)], hexDigits[Int(b & 0x0F)]]) + (i == 7 ? "  " : " ")
        }
        bytes = bytes.padding(toLength: 49, withPad: " ", startingAt: 0)
        let ascii = String(chunk.map { (0x20..<0x7F).contains($0) ? Character(Unicode.Scalar($0)) : "." })
        return offsetText + "  " + bytes + "|" + ascii + "|"
    }

    static func conventionName(_ c: DeadLetter.Convention) -> String {
        switch c {
        case .springKafka: return "Spring Kafka"
        case .kafkaConnect: return "Kafka Connect"
        case .rabbitMQ: return "RabbitMQ x-death"
        case .evtop: return "evtop"
        case .unknown: return "no dead-letter headers"
        }
    }
}
