import Foundation
import EventModel
import TerminalUI

/// One record as the messages view lists it: the record (its value cut to ``MessagesModel/maxValueBytes``)
/// and what the correlation rules found in it, worked out off the UI thread when it was read.
public struct MessageRow: Sendable, Hashable {
    /// The record; a value longer than ``MessagesModel/maxValueBytes`` is cut (``valueBytes`` says how long it was).
    public var record: Record
    /// The value's length as stored (nil: a tombstone).
    public var valueBytes: Int?
    /// The event type, if the rules find one.
    public var eventType: String?
    /// The correlation ID, if the rules find one.
    public var correlationID: String?

    /// A row for `record`, with what `rules` find in it; the value is cut to `maxValueBytes`.
    public init(_ record: Record, rules: CorrelationRules) {
        let found = rules.extract(record)
        var kept = record
        valueBytes = record.value?.count
        if let v = record.value, v.count > MessagesModel.maxValueBytes { kept.value = Array(v.prefix(MessagesModel.maxValueBytes)) }
        self.record = kept
        eventType = found.eventType
        correlationID = found.correlationID
        key = "\(record.partition)/\(record.offset)"
        keyText = MessagesModel.keyText(record.key)
        preview = MessagesModel.preview(record.value, width: MessagesModel.previewColumns)
    }

    /// `P/OFFSET`: the row's key in the table (made once: every frame and every key looks rows up by it).
    public let key: String
    /// The key as its cell shows it (``MessagesModel/keyText(_:)``), made once off the UI thread.
    public let keyText: String
    /// The value in one line (``MessagesModel/preview(_:width:)``, ``MessagesModel/previewColumns`` wide), made
    /// once off the UI thread: a frame that tails at any rate draws rows, it does not parse them.
    public let preview: String
}

/// A read of the messages view: a page to read, or a seek to resolve first.
public struct MessageRead: Sendable, Hashable {
    /// The page (with a seek, its positions are found by the performer).
    public var request: MessageRequest
    /// Resolve positions for this target first (nil: read from the request's positions).
    public var seek: SeekTarget?
    /// The partitions read (nil: every partition of the topic).
    public var partitions: [Int32]?

    /// Creates a read.
    public init(request: MessageRequest, seek: SeekTarget? = nil, partitions: [Int32]? = nil) {
        self.request = request
        self.seek = seek
        self.partitions = partitions
    }
}

/// What a ``MessageRead`` found: the page as rows, where a seek put each partition, and the log's ends.
public struct MessagesLoaded: Sendable, Hashable {
    /// The read's serial (answers to older reads are dropped).
    public var serial: Int
    /// Which way it read.
    public var direction: MessageDirection
    /// The records, in the order read (newest first for `.older`, oldest first for `.newer`).
    public var rows: [MessageRow]
    /// Where each partition goes on that way.
    public var positions: [Int32: LogPosition]
    /// For a seek: where each partition started (the other way goes on from there).
    public var start: [Int32: LogPosition]?
    /// Each partition's low and high watermarks as the read found them.
    public var lows: [Int32: LogPosition]
    /// See ``lows``.
    public var highs: [Int32: LogPosition]
    /// Records read, matching or not.
    public var scanned: Int
    /// Every partition reached the log's end that way.
    public var exhausted: Bool
    /// The read stopped at its scan budget.
    public var stoppedEarly: Bool
    /// A tail's records passed over because they came faster than they are shown.
    public var skipped: Int64
    /// ``skipped`` counts positions on a source whose positions need not hold records: at most that many.
    public var skippedIsUpperBound: Bool

    /// Creates a result.
    public init(serial: Int, direction: MessageDirection, rows: [MessageRow], positions: [Int32: LogPosition], start: [Int32: LogPosition]?,
                lows: [Int32: LogPosition], highs: [Int32: LogPosition], scanned: Int, exhausted: Bool, stoppedEarly: Bool,
                skipped: Int64 = 0, skippedIsUpperBound: Bool = false) {
        self.skipped = skipped
        self.skippedIsUpperBound = skippedIsUpperBound
        self.serial = serial
        self.direction = direction
        self.rows = rows
        self.positions = positions
        self.start = start
        self.lows = lows
        self.highs = highs
        self.scanned = scanned
        self.exhausted = exhausted
        self.stoppedEarly = stoppedEarly
    }
}

/// What the messages view keeps: the loaded window of a topic (or one partition), where it goes on either
/// way, the tail, the order, the structured filter.
public struct MessagesState: ViewStateValue {
    /// The view these rows belong to (another messages view starts over).
    public var view: ViewID?
    /// Loaded rows, newest first, at most ``MessagesModel/maxRows``.
    public var rows: [MessageRow] = []
    /// Per partition, where the next older page ends (exclusive).
    public var older: [Int32: LogPosition] = [:]
    /// Per partition, where the next newer page starts.
    public var newer: [Int32: LogPosition] = [:]
    /// Nothing older is left to read.
    public var oldestReached = false
    /// Nothing newer was there at the last read.
    public var newestReached = false
    /// Where the window was opened (`:seek`).
    public var start: SeekTarget = .end
    /// The first read (the seek) is done.
    public var started = false
    /// A read is under way (its serial is ``serial``).
    public var loading = false
    /// Serial of the newest read asked for.
    public var serial = 0
    /// Cursor.
    public var cursor = TableCursor()
    /// New records are read as they arrive (`f`).
    public var following = false
    /// Records passed over while following, because they came faster than the view reads.
    public var skipped: Int64 = 0
    /// Some of ``skipped`` are positions that need not hold records: the count is at most that many.
    public var skippedIsUpperBound = false
    /// Shown oldest first (`o`); newest first by default.
    public var oldestFirst = false
    /// The structured filter the rows were read with (nil: none).
    public var filterText: String?
    /// Records read for this window (matching or not).
    public var scanned = 0
    /// The last read stopped at its scan budget: the filter matches little so far.
    public var scanning = false
    /// Which way the last read went.
    public var lastDirection: MessageDirection?
    /// Why the last read failed.
    public var error: String?
    /// First line shown of the record detail.
    public var detailScroll = 0

    /// The state before any messages view was opened.
    public init() {}
}

/// Pure derivations and state changes of the messages views.
public enum MessagesModel {
    /// Rows kept at most: the window slides, dropping the far end, as the operator scrolls or tails.
    public static let maxRows = 1_000
    /// Bytes of a value kept per row (the detail says when it shows a cut value).
    public static let maxValueBytes = 64 * 1024
    /// Columns of a row's value preview: wider than any value column a terminal gives it.
    public static let previewColumns = 400
    /// Records per page read when scrolling.
    public static let pageRows = 200
    /// Records read per page at most when a filter matches little (the view goes on page after page, saying so).
    public static let scanBudget = 50_000
    /// Rows from the edge at which the next page is read.
    static let edgeRows = 20

    /// The messages view of a topic (`partition` nil: every partition).
    public static func view(topic: String, partition: Int32?) -> ViewID {
        // `@*` keeps a topic whose own name ends in `@N` from reading as one partition.
        let suffix = partition.map { "@\($0)" } ?? (topic.range(of: #"@[0-9]+$"#, options: .regularExpression) != nil ? "@*" : "")
        return .registered(name: "messages", argument: topic + suffix)
    }

    /// The topic and partition of a messages view's argument (`orders`, `orders@3`, `a@3@*`); nil when empty.
    public static func scope(_ argument: String) -> (topic: String, partition: Int32?)? {
        if argument.hasSuffix("@*") { return argument.count > 2 ? (String(argument.dropLast(2)), nil) : nil }
        if let at = argument.lastIndex(of: "@"), let p = Int32(argument[argument.index(after: at)...]), p >= 0, at > argument.startIndex {
            return (String(argument[..<at]), p)
        }
        return argument.isEmpty ? nil : (argument, nil)
    }

    /// The view of one record: `message:TOPIC@P/OFFSET`.
    public static func recordView(_ r: Record) -> ViewID {
        .registered(name: "message", argument: "\(r.topic)@\(r.partition)/\(r.offset)")
    }

    /// Topic, partition and offset of a record view's argument.
    public static func recordPosition(_ argument: String) -> RecordPosition? {
        guard let slash = argument.lastIndex(of: "/"), let offset = Int64(argument[argument.index(after: slash)...]) else { return nil }
        let head = argument[..<slash]
        guard let at = head.lastIndex(of: "@"), let p = Int32(head[head.index(after: at)...]), at > head.startIndex else { return nil }
        return RecordPosition(topic: String(head[..<at]), partition: p, offset: offset)
    }

    /// The rows as shown: newest or oldest first, then the live `/` regex (a structured filter was applied
    /// when reading and is not applied again).
    public static func rows(_ state: AppState) -> [MessageRow] {
        let s = state.viewStates[MessagesState.self]
        var rows = s.oldestFirst ? s.rows.reversed() : s.rows
        let text = state.filters["messages"] ?? ""
        if !text.isEmpty, !MessageFilter.isStructured(text) {
            let filter = RowFilter(text)
            rows = rows.filter { filter.matches(filterText($0)) }
        }
        return rows
    }

    /// What the live regex filter reads of a row: key, type, correlation ID, headers and the value preview.
    static func filterText(_ r: MessageRow) -> String {
        var parts = [r.keyText, r.eventType ?? "", r.correlationID ?? ""]
        parts += r.record.headers.map { "\($0.name)=\($0.utf8Value ?? "")" }
        parts.append(r.preview)
        return parts.joined(separator: " ")
    }

    /// A key as a cell: text when UTF-8 (escaped), else `0x…` hex; `–` for none.
    public static func keyText(_ key: [UInt8]?) -> String {
        guard let key else { return "–" }
        if let text = String(validating: key, as: UTF8.self) { return TextWidth.sanitized(text) }
        return "0x" + DeadLetterModel.hex(key.prefix(16)).replacingOccurrences(of: " ", with: "") + (key.count > 16 ? "…" : "")
    }

    /// A value in one line: text with whitespace runs folded and control characters escaped; a value
    /// in Confluent's framing as `[schema N]` and its payload; binary as `0x…`; `tombstone` for none.
    public static func preview(_ value: [UInt8]?, width: Int) -> String {
        guard let value else { return "tombstone" }
        var bytes = ArraySlice(value)
        var prefix = ""
        if let frame = ConfluentFrame(value) {
            prefix = "[schema \(frame.schemaID)] "
            bytes = frame.payload
        }
        let head = bytes.prefix(max(16, width * 4))
        if head.allSatisfy({ $0 < 0x80 }) {
            // ASCII (most payloads): whitespace runs folded byte by byte, as the general path below folds them.
            var out: [UInt8] = []
            out.reserveCapacity(min(head.count, width))
            var space = false
            for b in head {
                if b == 0x20 || (0x09...0x0D).contains(b) { space = !out.isEmpty; continue }
                if out.count >= width { break }
                if space { out.append(0x20); space = false }
                out.append(b)
            }
            return prefix + String(TextWidth.sanitized(String(decoding: out, as: UTF8.self)).prefix(width))
        }
        if let text = String(validating: head, as: UTF8.self) ?? (head.count < bytes.count ? validPrefix(head) : nil) {
            let folded = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            return prefix + String(TextWidth.sanitized(folded).prefix(width))
        }
        return prefix + "0x" + DeadLetterModel.hex(bytes.prefix(24)).replacingOccurrences(of: " ", with: "") + (bytes.count > 24 ? "…" : "")
    }

    /// The longest UTF-8 prefix when a cut fell inside a character (up to 3 bytes dropped).
    private static func validPrefix(_ bytes: ArraySlice<UInt8>) -> String? {
        for drop in 1...3 where bytes.count > drop {
            if let s = String(validating: bytes.dropLast(drop), as: UTF8.self) { return s }
        }
        return nil
    }

    /// The highlighted row.
    public static func highlighted(_ state: AppState) -> MessageRow? {
        Reducer.highlighted(rows(state), state.viewStates[MessagesState.self].cursor, key: \.key)
    }

    /// A loaded row by position.
    public static func row(_ state: AppState, _ p: RecordPosition) -> MessageRow? {
        state.viewStates[MessagesState.self].rows.first { $0.record.partition == p.partition && $0.record.offset == p.offset && $0.record.topic == p.topic }
    }

    // MARK: - Loading

    /// The read the view needs now, if any (the seek, a page at an edge the cursor nears, the tail); when the
    /// window starts over (another topic, another structured filter), first the stop of the read in flight.
    static func plannedLoads(_ state: inout AppState) -> [Effect] {
        guard case .registered("messages", let argument) = state.view, let scope = scope(argument) else { return [] }
        let stop = restartIfChanged(&state)
        return stop + nextRead(&state, scope: scope)
    }

    /// Another topic, or another structured filter: the window starts over where it was opened, and the read
    /// in flight for the old one is stopped. A structured filter is read from the log once it is entered,
    /// not at every key typed.
    private static func restartIfChanged(_ state: inout AppState) -> [Effect] {
        var s = state.viewStates[MessagesState.self]
        let typing = state.prompt?.kind == .filter
        let text = state.filters["messages"] ?? ""
        let structured = typing && s.view == state.view ? s.filterText : (MessageFilter.isStructured(text) ? text : nil)
        guard s.view != state.view || s.filterText != structured else { return [] }
        let stop = stopRead(&s)
        let keep = s.view == state.view ? (s.start, s.oldestFirst, s.following) : (.end, false, false)
        s = restart(s, view: state.view, start: keep.0)
        s.oldestFirst = keep.1
        s.following = keep.2
        s.filterText = structured
        state.viewStates[MessagesState.self] = s
        return stop
    }

    /// Stops the read in flight, if any: its answer will be dropped (the serial moves on) and the performer is
    /// asked to cancel it (a structured filter's scan stops between batches).
    static func stopRead(_ s: inout MessagesState) -> [Effect] {
        guard s.loading else { return [] }
        let serial = s.serial
        s.loading = false
        s.serial += 1
        return [.stopMessageRead(serial: serial)]
    }

    /// The view shown changed: leaving the messages list (for a record, a saga or another view) stops the read
    /// in flight; the list reads that page again when it shows once more.
    static func viewChanged(_ state: inout AppState) -> [Effect] {
        if case .registered("messages", _) = state.view { return [] }
        return stopRead(&state.viewStates[MessagesState.self])
    }

    private static func nextRead(_ state: inout AppState, scope: (topic: String, partition: Int32?)) -> [Effect] {
        var s = state.viewStates[MessagesState.self]
        defer { state.viewStates[MessagesState.self] = s }
        guard !s.loading, !state.paused || !s.started else { return [] }
        let filter: MessageFilter?
        do { filter = try s.filterText.map(MessageFilter.init) } catch {
            // A filter that looks structured but does not parse (`/error`): say why, read nothing.
            if s.error == nil { s.error = "\(error)" }
            s.started = true
            return []
        }
        func read(_ direction: MessageDirection, positions: [Int32: LogPosition], limit: Int, seek: SeekTarget? = nil,
                  tail: Bool = false) -> [Effect] {
            s.serial += 1
            s.loading = true
            let request = MessageRequest(topic: scope.topic, positions: positions, direction: direction, limit: limit, filter: filter,
                                         scanBudget: scanBudget, serial: s.serial, tail: tail)
            return [.readMessages(MessageRead(request: request, seek: seek, partitions: scope.partition.map { [$0] }))]
        }
        if !s.started {
            // From the end: the newest page, read backwards. From anywhere else: forwards from there.
            let backwards = s.start == .end
            return read(backwards ? .older : .newer, positions: [:], limit: pageRows, seek: s.start)
        }
        // A failed read stops the paging (the title says why); a tail tries again, paced as its reads are.
        guard s.error == nil || s.following, !state.paused else { return [] }
        // Where the cursor is in the window (not in what a regex filter leaves of it: a filter that hides most
        // rows would put the cursor near both ends, and pages would be read one way, then the other, forever).
        // No cursor yet, or its row gone: the screen highlights the first row shown, so that is where it is.
        let index = s.cursor.selectedKey.flatMap { key in s.rows.firstIndex { $0.key == key } } ?? (s.oldestFirst ? max(0, s.rows.count - 1) : 0)
        let fromNewest = index
        let fromOldest = s.rows.count - 1 - fromNewest
        if s.following {
            // The next tail read is asked for as soon as the last one landed; the performer paces them.
            return read(.newer, positions: s.newer, limit: pageRows, tail: true)
        } else if !s.newestReached, fromNewest < edgeRows || s.scanning && s.lastDirection == .newer {
            return read(.newer, positions: s.newer, limit: pageRows)
        }
        if !s.oldestReached, fromOldest < edgeRows || (s.scanning && s.lastDirection == .older) {
            return read(.older, positions: s.older, limit: pageRows)
        }
        return []
    }

    /// A fresh window of `view` opened at `start`.
    static func restart(_ old: MessagesState, view: ViewID, start: SeekTarget) -> MessagesState {
        var s = MessagesState()
        s.view = view
        s.start = start
        s.serial = old.serial + 1  // answers to the old window's reads are dropped
        return s
    }

    /// Takes a read's answer into the window.
    static func loaded(_ state: inout AppState, _ page: MessagesLoaded) {
        var s = state.viewStates[MessagesState.self]
        guard page.serial == s.serial else { return }
        s.loading = false
        s.error = nil
        s.scanned += page.scanned
        s.scanning = page.stoppedEarly
        s.lastDirection = page.direction
        let wasAtNewest = s.cursor.selectedKey == nil || s.rows.first.map { $0.key == s.cursor.selectedKey } ?? true
        // Nothing read and nowhere to go that way (a source that reads no further from there): stop asking.
        let stuck = page.rows.isEmpty && !page.stoppedEarly
            && page.positions == (page.direction == .older ? s.older : s.newer) && page.start == nil
        switch page.direction {
        case .older:
            if stuck { s.oldestReached = true }
            s.rows += page.rows
            s.older = page.positions
            s.oldestReached = page.exhausted
            if let start = page.start {
                s.newer = start
                s.newestReached = start.allSatisfy { $0.value >= page.highs[$0.key] ?? 0 }
            }
        case .newer:
            let positions = page.positions
            // A tail read passes over what came faster than it is shown, and says how much.
            if s.following {
                s.skipped += page.skipped
                if page.skippedIsUpperBound { s.skippedIsUpperBound = true }
            }
            if stuck, !s.following { s.newestReached = true }
            s.rows = page.rows.reversed() + s.rows
            s.newer = positions
            s.newestReached = page.exhausted || positions.allSatisfy { $0.value >= page.highs[$0.key] ?? 0 }
            if let start = page.start {
                s.older = start
                s.oldestReached = start.allSatisfy { $0.value <= page.lows[$0.key] ?? 0 }
            }
            // Following, newest first, from the newest row: the cursor rides on the newest.
            if s.following, wasAtNewest, !s.oldestFirst, let first = s.rows.first { s.cursor.selectedKey = first.key }
        }
        s.started = true
        trim(&s, keepingNewest: page.direction == .newer)
        state.viewStates[MessagesState.self] = s
    }

    /// Drops rows beyond ``maxRows`` from the far end, moving that side's positions back over them.
    static func trim(_ s: inout MessagesState, keepingNewest: Bool) {
        guard s.rows.count > maxRows else { return }
        if keepingNewest {
            let dropped = s.rows[maxRows...]
            for r in dropped { s.older[r.record.partition] = max(s.older[r.record.partition] ?? 0, r.record.offset + 1) }
            s.rows.removeLast(s.rows.count - maxRows)
            s.oldestReached = false
        } else {
            let dropped = s.rows[..<(s.rows.count - maxRows)]
            for r in dropped { s.newer[r.record.partition] = min(s.newer[r.record.partition] ?? .max, r.record.offset) }
            s.rows.removeFirst(s.rows.count - maxRows)
            s.newestReached = false
        }
    }

    /// `:seek TARGET` in a messages view: the window starts over there (the read in flight is stopped).
    static func seek(_ state: inout AppState, _ argument: String) -> [Effect] {
        guard case .registered("messages", _) = state.view else {
            Reducer.say(&state, ":seek works in the messages view (m on a topic, enter on a partition)", error: true)
            return []
        }
        do {
            let target = try SeekTarget.parse(argument, now: state.now, utcOffsetSeconds: state.utcOffsetSeconds)
            var old = state.viewStates[MessagesState.self]
            let stop = stopRead(&old)
            var s = restart(old, view: state.view, start: target)
            s.oldestFirst = target != .end ? true : old.oldestFirst
            s.filterText = old.filterText
            state.viewStates[MessagesState.self] = s
            Reducer.say(&state, "seeking to \(argument.trimmingCharacters(in: .whitespaces))")
            return stop
        } catch {
            Reducer.say(&state, "\(error)", error: true)
            return []
        }
    }
}

extension MessagesModel {
    /// A read failed: the view says why and reads no more until it is opened again or seeks.
    static func failed(_ state: inout AppState, serial: Int, _ reason: String) {
        var s = state.viewStates[MessagesState.self]
        guard serial == s.serial else { return }
        s.loading = false
        s.error = reason
        s.started = true
        state.viewStates[MessagesState.self] = s
    }
}
