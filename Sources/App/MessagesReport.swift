import Foundation
import Logging
import Synchronization
import EventModel
import Dashboard
import TerminalUI

/// A record as JSON for scripts (`evtop messages`, and `Y` and `:save` on a letter or a messages record):
/// key, headers and value as text when they are UTF-8, else base64 (named so, so nothing is guessed on the
/// way back).
struct RecordJSON: Encodable {
    /// Bytes as JSON: `{"text": …}` when valid UTF-8, else `{"base64": …}`.
    struct Bytes: Encodable {
        var text: String?
        var base64: String?
        init(_ bytes: [UInt8]) {
            if let s = String(validating: bytes, as: UTF8.self) { text = s } else { base64 = Data(bytes).base64EncodedString() }
        }
    }

    struct Header: Encodable {
        var name: String
        var value: Bytes
    }

    var topic: String
    var partition: Int32
    var offset: Int64
    var timestamp: String
    var timestampMillis: Int64
    var key: Bytes?
    var headers: [Header]
    /// Nil for a tombstone.
    var value: Bytes?
    /// What the correlation rules find in it.
    var eventType: String?
    var correlationId: String?
    /// A value in Confluent's wire format: its schema id (the value is kept whole).
    var schemaId: UInt32?
    /// A dead letter exported from the letter views: what evtop read in it (absent otherwise).
    var deadLetter: DLQOutput.JSONRow?

    init(_ r: Record, extraction: CorrelationRules.Extraction? = nil) {
        topic = r.topic
        partition = r.partition
        offset = r.offset
        timestamp = DLQOutput.iso(r.timestampMillis)
        timestampMillis = r.timestampMillis
        key = r.key.map(Bytes.init)
        headers = r.headers.map { Header(name: $0.name, value: Bytes($0.value)) }
        value = r.value.map(Bytes.init)
        eventType = extraction?.eventType
        correlationId = extraction?.correlationID
        schemaId = r.value.flatMap(ConfluentFrame.init)?.schemaID
    }
}

/// How `evtop messages` prints.
public enum MessagesFormat: String, Sendable, CaseIterable {
    /// One line per record, for people.
    case text
    /// One JSON array.
    case json
    /// One JSON document per line (for `jq -c`, or a file to keep).
    case jsonl
}

/// `evtop messages TOPIC`: a topic's records from a position or a time, filtered, as text or JSON.
public enum MessagesReport {
    /// What to read and how to print it.
    public struct Options: Sendable {
        /// The topic.
        public var topic: String
        /// One partition, or all.
        public var partition: Int32?
        /// Where to start, as `:seek` reads it (default: the beginning).
        public var from: String
        /// Records printed at most; 0: every record up to the end as the read found it.
        public var limit: Int
        /// A structured filter (``MessageFilter``).
        public var filter: String?
        /// How to print.
        public var format: MessagesFormat
        /// Keep printing records as they arrive (until interrupted).
        public var follow: Bool

        /// Creates the options.
        public init(topic: String, partition: Int32?, from: String, limit: Int, filter: String?, format: MessagesFormat, follow: Bool) {
            self.topic = topic
            self.partition = partition
            self.from = from
            self.limit = limit
            self.filter = filter
            self.format = format
            self.follow = follow
        }
    }

    /// Prints the records; returns the exit status (0, or 1 when a filter matched nothing).
    public static func run(source: SourceSelection, options o: Options) async throws -> Int32 {
        let filter: MessageFilter?
        do { filter = try o.filter.map(MessageFilter.init) } catch { throw UsageError(String(describing: error)) }
        let target: SeekTarget
        do {
            target = try SeekTarget.parse(o.from, now: Date(), utcOffsetSeconds: TimeZone.current.secondsFromGMT())
        } catch { throw UsageError(String(describing: error)) }
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        defer { Task { await opened.close() } }
        let reader = MessageReader(log: opened.reader, rules: try resolved.sagaAssembler().rules)
        let start: [Int32: LogPosition]
        do {
            start = try await reader.positions(topic: o.topic, partitions: o.partition.map { [$0] }, at: target).positions
        } catch BrokerError.unknownTopic(let what) {
            throw OperatorError("no topic \(TextWidth.sanitized(what)) in \(opened.description)")
        }
        let out = Output(format: o.format, rules: reader.rules)
        out.begin()
        if o.limit == 0, !o.follow {
            // Everything up to the end: one bulk read of every partition at once (the correlation index's
            // path), printed as it comes, in order within each partition, as kcat prints.
            let counts = try await stream(opened.reader, topic: o.topic, from: start, filter: filter, rules: reader.rules, out: out)
            out.end()
            return summary(filter, printed: counts.printed, scanned: counts.scanned)
        }
        var positions = start
        var printed = 0, scanned = 0
        let pageSize = 1_000
        while o.limit == 0 || printed < o.limit {
            let want = o.limit == 0 ? pageSize : min(pageSize, o.limit - printed)
            let page = try await reader.read(MessageRequest(topic: o.topic, positions: positions, direction: .newer, limit: want,
                                                            filter: filter, scanBudget: Int.max))
            out.write(page.records)
            printed += page.records.count
            scanned += page.scanned
            let moved = page.positions != positions
            positions = page.positions
            // Exhausted, or nothing read and nowhere to go (a source that reads no further from there).
            if page.exhausted || (page.records.isEmpty && !moved && !page.stoppedEarly) {
                guard o.follow else { break }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        out.end()
        return summary(filter, printed: printed, scanned: scanned)
    }

    /// With a filter, how many records were read and matched (stderr); exit status 1 when none did.
    private static func summary(_ filter: MessageFilter?, printed: Int, scanned: Int) -> Int32 {
        guard let filter else { return 0 }
        FileHandle.standardError.write(Data("evtop: \(NumberFormat.grouped(Int64(printed))) of \(NumberFormat.grouped(Int64(scanned))) records read matched \(TextWidth.sanitized(filter.text))\n".utf8))
        return printed == 0 ? 1 : 0
    }

    /// Every record from `start` to each partition's end (as found now), through `readRanges`; filtered
    /// and printed on the reading thread, batch by batch.
    private static func stream(_ log: any LogReader, topic: String, from start: [Int32: LogPosition], filter: MessageFilter?,
                               rules: CorrelationRules, out: Output) async throws -> (printed: Int, scanned: Int) {
        let marks = try await log.watermarks(topic: topic).partitions
        let ranges = marks.compactMap { w -> ReadRange? in
            guard let from = start[w.partition], from < w.high else { return nil }
            return ReadRange(TopicPartition(topic, w.partition), from: from, to: w.high)
        }
        let counts = Mutex((printed: 0, scanned: 0))
        let wanted = filter.flatMap { $0.terms.isEmpty ? nil : $0 }
        try await log.readRanges(ranges) { batch in
            let kept = wanted.map { f in batch.records.filter { f.matches($0, extraction: f.needsExtraction ? rules.extract($0) : nil) } } ?? batch.records
            out.write(kept)
            counts.withLock { $0.printed += kept.count; $0.scanned += batch.records.count }
            return true
        }
        return counts.withLock { $0 }
    }

    /// Writes records as they come, flushed per page (a pipe sees them at once).
    final class Output: Sendable {
        let format: MessagesFormat
        let rules: CorrelationRules
        private let first = Mutex(true)

        init(format: MessagesFormat, rules: CorrelationRules) {
            self.format = format
            self.rules = rules
        }

        func begin() { if format == .json { emit("[\n") } }

        func end() { if format == .json { emit(first.withLock { $0 } ? "]\n" : "\n]\n") } }

        func write(_ records: [Record]) {
            guard !records.isEmpty else { return }
            var text = ""
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for r in records {
                let extraction = rules.extract(r)
                switch format {
                case .text:
                    text += MessagesText.line(r, extraction: extraction) + "\n"
                case .json, .jsonl:
                    let doc = (try? encoder.encode(RecordJSON(r, extraction: extraction))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                    if format == .jsonl {
                        text += TerminalSafe.json(doc) + "\n"
                    } else {
                        let wasFirst = first.withLock { f in defer { f = false }; return f }
                        text += (wasFirst ? "  " : ",\n  ") + TerminalSafe.json(doc)
                    }
                }
            }
            emit(text)
        }

        private func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    }
}

/// One record as a line of text: position, time, key, type, correlation ID and a preview, every part
/// made inert (control characters escaped).
enum MessagesText {
    static func line(_ r: Record, extraction: CorrelationRules.Extraction) -> String {
        let parts = ["p\(r.partition)@\(r.offset)", DLQOutput.iso(r.timestampMillis), "key=" + MessagesModel.keyText(r.key),
                     TextWidth.sanitized(extraction.eventType ?? "–"), TextWidth.sanitized(extraction.correlationID ?? "–"),
                     MessagesModel.preview(r.value, width: 200)]
        return parts.joined(separator: "  ")
    }
}

/// The messages view's reads, off the UI thread: a seek resolved to positions, then one page, as rows.
/// One read is under way at a time; ``stop(serial:)`` cancels it (the window started over, or the view
/// was left), and a read cancelled posts nothing.
final class MessageLoading: Sendable {
    private let current = Mutex<(serial: Int, task: Task<Void, Never>)?>(nil)
    /// When the last tail read started: the view asks for the next as soon as one lands, and they are paced here.
    private let lastTail = Mutex<ContinuousClock.Instant?>(nil)
    /// Time between the starts of two tail reads: four pages a second, whatever the rate records arrive at.
    static let tailInterval = Duration.milliseconds(250)

    /// Starts `read`, cancelling a read of another serial still under way (one of a window gone).
    func start(_ read: MessageRead, log: any LogReader, rules: CorrelationRules, mailbox: ActionMailbox) -> Task<Void, Never> {
        var due: ContinuousClock.Instant?
        if read.request.tail {
            due = lastTail.withLock { last in
                let now = ContinuousClock.now
                let at = last.map { max(now, $0 + Self.tailInterval) } ?? now
                last = at
                return at
            }
        }
        let task = Self.read(read, notBefore: due, log: log, rules: rules, mailbox: mailbox)
        let previous = current.withLock { c in
            defer { c = (read.request.serial, task) }
            return c
        }
        if let previous, previous.serial != read.request.serial { previous.task.cancel() }
        return task
    }

    /// Cancels the read of `serial` if it is the one under way.
    func stop(serial: Int) {
        let task = current.withLock { c -> Task<Void, Never>? in
            guard let running = c, running.serial == serial else { return nil }
            c = nil
            return running.task
        }
        task?.cancel()
    }

    /// Cancels whatever read is under way (the source is closing).
    func stopAll() {
        current.withLock { c in defer { c = nil }; return c }?.task.cancel()
    }

    static func read(_ read: MessageRead, notBefore: ContinuousClock.Instant? = nil, log: any LogReader, rules: CorrelationRules,
                     mailbox: ActionMailbox) -> Task<Void, Never> {
        Task.detached {
            // A stop during the wait ends it: the sleep throws, and a read cancelled posts nothing.
            if let notBefore, (try? await Task.sleep(until: notBefore, clock: .continuous)) == nil { return }
            let reader = MessageReader(log: log, rules: rules)
            var request = read.request
            do {
                var start: [Int32: LogPosition]?
                if let seek = read.seek {
                    let found = try await reader.positions(topic: request.topic, partitions: read.partitions, at: seek)
                    start = found.positions
                    request.positions = found.positions
                }
                let page = try await reader.read(request)
                // Stopped: the view has moved on and drops the answer anyway; a page cut short by the stop is not one.
                guard !Task.isCancelled else { return }
                let marks = page.watermarks
                let lows = Dictionary(marks.map { ($0.partition, $0.low) }, uniquingKeysWith: { a, _ in a })
                let highs = Dictionary(marks.map { ($0.partition, $0.high) }, uniquingKeysWith: { a, _ in a })
                let rows = page.records.map { MessageRow($0, rules: rules) }
                mailbox.post(.messagesRead(MessagesLoaded(serial: request.serial, direction: request.direction, rows: rows, positions: page.positions,
                                                          start: start, lows: lows, highs: highs, scanned: page.scanned,
                                                          exhausted: page.exhausted, stoppedEarly: page.stoppedEarly, skipped: page.skipped,
                                                          skippedIsUpperBound: page.skippedIsUpperBound)))
            } catch BrokerError.unknownTopic(let what) {
                guard !Task.isCancelled else { return }
                mailbox.post(.messagesReadFailed(serial: request.serial, "no topic \(what)"))
            } catch {
                guard !Task.isCancelled else { return }
                Logger(label: "evtop.messages").warning("reading \(request.topic) (\(request.direction.rawValue)) failed: \(error)")
                mailbox.post(.messagesReadFailed(serial: request.serial, String(describing: error)))
            }
        }
    }
}
