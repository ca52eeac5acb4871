import Foundation
import Synchronization
import EventModel
import EmbeddedStore
import Dashboard
import TerminalUI

/// What an incident recording takes from a source: which topics, from when, for how long.
public struct RecordingPlan: Sendable {
    /// The file to create (must not exist).
    public var out: String
    /// Topics whose name matches this regular expression (nil: every topic).
    public var topics: String?
    /// Where each partition's records start (`-30m`, an offset, `beginning`: what `:seek` takes).
    public var from: SeekTarget
    /// How long to keep recording after the start (nil: until stopped).
    public var duration: TimeInterval?
    /// Seconds between snapshots.
    public var interval: TimeInterval
    /// Records kept at most; snapshots go on after it.
    public var maxRecords: Int

    /// Records kept at most unless told.
    public static let defaultMaxRecords = 1_000_000
    /// Correlation IDs (and traces) whose spans are copied at most.
    static let maxSagas = 20_000

    /// Creates a plan.
    public init(out: String, topics: String? = nil, from: SeekTarget, duration: TimeInterval?, interval: TimeInterval = 1,
                maxRecords: Int = RecordingPlan.defaultMaxRecords) {
        self.out = out
        self.topics = topics
        self.from = from
        self.duration = duration
        self.interval = interval
        self.maxRecords = maxRecords
    }
}

/// How far a recording has got.
public struct RecordingProgress: Sendable, Hashable {
    /// Topics recorded.
    public var topics = 0
    /// Records kept.
    public var records = 0
    /// Snapshots taken.
    public var snapshots = 0
    /// Spans copied (counted at the end).
    public var spans = 0
    /// Seconds since the recording started.
    public var elapsed: TimeInterval = 0
    /// What was left out (a record budget reached, a round the source failed).
    public var notes: [String] = []

    /// One line for an operator.
    public var line: String {
        "\(topics) topic\(topics == 1 ? "" : "s"), \(NumberFormat.grouped(records)) records, \(snapshots) snapshots"
            + (spans > 0 ? ", \(NumberFormat.grouped(spans)) spans" : "") + ", \(NumberFormat.duration(seconds: elapsed))"
    }
}

/// Records an incident into a new store file: the source's snapshots at an interval, the records of the
/// chosen topics from the plan's start on, the spans of their sagas, and a correlation index, so that
/// `--broker file:PATH` later shows every view as it was. Shared by `evtop record` and `:record`. Reads with
/// the source's reader only (assign, never a group; nothing is committed or written to the source).
final class IncidentRecorder: Sendable {
    let source: OpenedSource
    let rules: CorrelationRules
    let plan: RecordingPlan
    private let matches: @Sendable (String) -> Bool
    private let stopRequested = Mutex(false)

    /// Checks the plan (a bad regex, a file already there) before anything is created.
    init(source: OpenedSource, rules: CorrelationRules, plan: RecordingPlan) throws {
        self.source = source
        self.rules = rules
        self.plan = plan
        if let pattern = plan.topics {
            let regex: NSRegularExpression
            do { regex = try NSRegularExpression(pattern: pattern) } catch {
                throw UsageError("--topics: not a regular expression: \(TextWidth.sanitized(pattern))")
            }
            let box = RegexBox(regex)
            matches = { box.matches($0) }
        } else {
            matches = { _ in true }
        }
        if FileManager.default.fileExists(atPath: plan.out) {
            throw OperatorError("\(plan.out) already exists: a recording is always a new file (choose another name, or move it aside)")
        }
    }

    /// Asks the recording to end after the batch in flight (Ctrl-C, `:record stop`).
    func stop() { stopRequested.withLock { $0 = true } }

    private var stopping: Bool { stopRequested.withLock { $0 } }

    /// Records until the plan's duration is over or ``stop()`` is called, reporting progress after every
    /// snapshot; returns what was recorded. The file is complete (indexed, sealed) when this returns. A round
    /// the source fails (a snapshot, a seek, a read) is noted in the file and tried again at the next
    /// snapshot, its positions kept; a failure of the file itself (or of the first snapshot) removes the file.
    func run(progress report: @Sendable (RecordingProgress) -> Void = { _ in }) async throws -> RecordingProgress {
        try Paths.ensureParent(of: plan.out)
        let store = try SQLiteLog(path: plan.out, mode: .readWrite)
        var closed = false
        defer { if !closed { store.close() } }
        let started = ContinuousClock.now
        var progress = RecordingProgress()
        var positions: [TopicPartition: LogPosition] = [:]
        var sagas = SagaKeys(limit: RecordingPlan.maxSagas)
        do {
            try await store.beginRecording(source: source.description)
            var first = true
            while true {
                do {
                    let snapshot = chosen(try await source.reader.snapshot())
                    try await store.recordSnapshot(snapshot)
                    progress.snapshots += 1
                    progress.topics = snapshot.topics.count
                    try await startNewPartitions(of: snapshot, first: first, positions: &positions)
                    first = false
                    try await copyRecords(upTo: snapshot, positions: &positions, into: store, progress: &progress, sagas: &sagas)
                } catch let error as StoreError {
                    throw error
                } catch {
                    // The source failed this round: what was read stays, the rest is read at the next snapshot.
                    guard progress.snapshots > 0 else { throw error }
                    Self.note(&progress, "the source failed at \(Clock.hms(Date(), utcOffsetSeconds: 0))Z, retried at the next snapshot: \(TerminalSafe.text(error))")
                }
                progress.elapsed = (ContinuousClock.now - started).timeInterval
                report(progress)
                if stopping { break }
                if let duration = plan.duration, progress.elapsed >= duration { break }
                let wait = plan.duration.map { min(plan.interval, max(0, $0 - progress.elapsed)) } ?? plan.interval
                let until = ContinuousClock.now + .milliseconds(Int(wait * 1000))
                while ContinuousClock.now < until, !stopping { try? await Task.sleep(for: .milliseconds(50)) }
            }
            do {
                progress.spans = try await copySpans(sagas, into: store)
            } catch let error as StoreError {
                throw error
            } catch {
                Self.note(&progress, "spans could not be copied: \(TerminalSafe.text(error))")
            }
            if !progress.notes.isEmpty { try await store.noteRecording(progress.notes.joined(separator: "; ")) }
            // The index is built once, whole: playback opens the file read-only and only reads it.
            let index = try CorrelationIndex(path: plan.out)
            _ = try await CorrelationIndexer(log: store, index: index, rules: rules).catchUpFully()
            progress.elapsed = (ContinuousClock.now - started).timeInterval
        } catch {
            store.close()
            closed = true
            Self.remove(plan.out)
            throw OperatorError("recording into \(plan.out) failed, and the file was removed: \(TerminalSafe.text(error))")
        }
        store.close()
        closed = true
        try SQLiteLog.sealRecording(path: plan.out)
        return progress
    }

    /// Removes an unfinished recording and what SQLite keeps beside it (abandoned, or failed).
    static func remove(_ path: String) {
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] { unlink(file) }
    }

    private static func note(_ progress: inout RecordingProgress, _ text: String) {
        if !progress.notes.contains(text) { progress.notes.append(text) }
    }

    /// Where each partition not seen before starts: the plan's `--from` in the first snapshot and, for a time,
    /// in any later one (a partition that is new then has nothing older: the seek answers its low watermark);
    /// a topic that appears later with `--from beginning`, an offset or `-N` starts at its oldest record.
    private func startNewPartitions(of snapshot: BrokerSnapshot, first: Bool, positions: inout [TopicPartition: LogPosition]) async throws {
        var byTime = false
        if case .time = plan.from { byTime = true }
        for topic in snapshot.topics {
            for p in topic.partitions where positions[TopicPartition(topic.name, p.partition)] == nil {
                positions[TopicPartition(topic.name, p.partition)] =
                    first || byTime ? try await source.reader.seekPosition(topic: topic.name, partition: p, to: plan.from) : p.low
            }
        }
    }

    /// The snapshot with only the chosen topics (and the group offsets and letters on them).
    private func chosen(_ s: BrokerSnapshot) -> BrokerSnapshot {
        var s = s
        s.topics = s.topics.filter { matches($0.name) && !$0.partitions.isEmpty }
        let names = Set(s.topics.map(\.name))
        s.groups = s.groups.compactMap { g in
            var g = g
            g.offsets = g.offsets.filter { names.contains($0.key.topic) }
            g.commitTimesMillis = g.commitTimesMillis.filter { names.contains($0.key.topic) }
            g.reported = g.reported.filter { names.contains($0.key.topic) }
            return g.offsets.isEmpty && g.reported.isEmpty ? nil : g
        }
        s.deadLetterTopics = s.deadLetterTopics.filter { names.contains($0) }
        return s
    }

    /// Reads every chosen partition from its position up to the snapshot's high watermark, in bulk, into the
    /// store. Positions move only over what was read (a range the source ends early is read on at the next
    /// round); once the record budget is spent, the rest is passed over on purpose, and the file says so.
    private func copyRecords(upTo snapshot: BrokerSnapshot, positions: inout [TopicPartition: LogPosition], into store: SQLiteLog,
                             progress: inout RecordingProgress, sagas: inout SagaKeys) async throws {
        var ranges: [ReadRange] = []
        for topic in snapshot.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partition)
                let from = max(positions[tp] ?? p.low, p.low)
                positions[tp] = from
                if from < p.high { ranges.append(ReadRange(tp, from: from, to: p.high)) }
            }
        }
        guard !ranges.isEmpty else { return }
        let budgetNote = "records after the first \(NumberFormat.grouped(plan.maxRecords)) were not kept (--max-records)"
        let room = plan.maxRecords - progress.records
        guard room > 0 else {
            for range in ranges { positions[range.partition] = range.to }
            Self.note(&progress, budgetNote)
            return
        }
        let rules = self.rules
        let copied = Mutex((kept: 0, sagas: sagas, reached: [TopicPartition: LogPosition](), cut: false))
        // Written from the reading thread as the batches come: memory holds one batch, not the range.
        try await source.reader.readRanges(ranges) { batch in
            let take = copied.withLock { min(batch.records.count, room - $0.kept) }
            let records = Array(batch.records.prefix(max(0, take)))
            try store.importRecords(records)
            return copied.withLock { c in
                c.kept += records.count
                for record in records {
                    c.sagas.note(record, rules: rules)
                    let tp = TopicPartition(record.topic, record.partition)
                    c.reached[tp] = max(c.reached[tp] ?? 0, record.offset.addingSaturating(1))
                }
                guard records.count == batch.records.count else {
                    c.cut = true
                    return false
                }
                // The whole batch was kept: each partition it names was read up to where it says.
                for (tp, next) in batch.next { c.reached[tp] = max(c.reached[tp] ?? 0, next) }
                return c.kept < room || batch.records.isEmpty
            }
        }
        let result = copied.withLock { $0 }
        progress.records += result.kept
        sagas = result.sagas
        for (tp, reached) in result.reached { positions[tp] = max(positions[tp] ?? reached, reached) }
        if result.cut {
            Self.note(&progress, budgetNote)
            for range in ranges { positions[range.partition] = range.to }
        }
    }

    /// Copies the spans of the recorded sagas (by correlation ID, and the traces their records name in
    /// `traceparent`) from the source's trace store, when it keeps one.
    private func copySpans(_ sagas: SagaKeys, into store: SQLiteLog) async throws -> Int {
        guard let traces = source.traces else { return 0 }
        var copied = 0
        for id in sagas.correlationIDs.sorted() {
            let spans = try await traces.spans(correlationID: id, limit: SagaLoader.maxItemsPerSaga)
            copied += try await store.insertSpans(spans)
        }
        for trace in sagas.traceIDs.sorted() {
            copied += try await store.insertSpans(try await traces.spans(traceID: trace))
        }
        return copied
    }
}

/// The correlation IDs and trace IDs of the recorded records, up to a limit each.
private struct SagaKeys: Sendable {
    let limit: Int
    var correlationIDs: Set<String> = []
    var traceIDs: Set<String> = []

    mutating func note(_ record: Record, rules: CorrelationRules) {
        if correlationIDs.count < limit, let id = rules.correlationID(of: record) { correlationIDs.insert(id) }
        if traceIDs.count < limit, let parent = TraceParent(headers: record.headers) { traceIDs.insert(parent.traceID) }
    }
}

/// A compiled regular expression shared across threads (only `firstMatch` is called, which is thread-safe).
private final class RegexBox: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// `evtop record`: an incident into a file, from the command line; progress on stderr, a summary on stdout.
public enum IncidentRecording {
    /// What `evtop record` was asked.
    public struct Options: Sendable {
        /// The file to create.
        public var out: String
        /// A regular expression topics must match (nil: all).
        public var topics: String?
        /// Where records start, as `:seek` reads it.
        public var from: String
        /// How long to record (`5m`; nil: until Ctrl-C).
        public var duration: String?
        /// Seconds between snapshots.
        public var interval: Double
        /// Records kept at most.
        public var maxRecords: Int

        /// Creates the options.
        public init(out: String, topics: String?, from: String, duration: String?, interval: Double, maxRecords: Int) {
            self.out = out
            self.topics = topics
            self.from = from
            self.duration = duration
            self.interval = interval
            self.maxRecords = maxRecords
        }
    }

    /// Records until the duration is over or Ctrl-C (SIGINT or SIGTERM; a second one ends the process).
    public static func run(source: SourceSelection, options o: Options) async throws {
        let from: SeekTarget
        do { from = try SeekTarget.parse(o.from, now: Date(), utcOffsetSeconds: TimeZone.current.secondsFromGMT()) } catch {
            throw UsageError("--from: \(error)")
        }
        let duration = try o.duration.map { text in
            guard let seconds = SeekTarget.duration(text), seconds > 0 else {
                throw UsageError("--duration: '\(TextWidth.sanitized(text))' is not a duration (30s, 5m, 1h)")
            }
            return seconds
        }
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        defer { Task { await opened.close() } }
        if opened.playback != nil { throw OperatorError("\(opened.description) is a recording already: open it with evtop --broker \(opened.description)") }
        let out = Paths.expand(o.out)
        let recorder = try IncidentRecorder(source: opened, rules: try resolved.sagaAssembler().rules,
                                            plan: RecordingPlan(out: out, topics: o.topics, from: from, duration: duration,
                                                                interval: o.interval, maxRecords: o.maxRecords))
        let interrupts = Mutex(0)
        Interrupts.route { sig in
            let count = interrupts.withLock { n in n += 1; return n }
            if count > 1 {
                // Abandoned: an unfinished file (no index, no spans) is not left to be opened as a recording.
                IncidentRecorder.remove(out)
                Interrupts.dieBy(sig)
            }
            note("stopping: finishing the file (spans, index)… (again to abandon it: the file is removed)")
            recorder.stop()
        }
        defer { Interrupts.route(to: nil) }
        note("recording \(opened.description) into \(out)" + (duration.map { " for \(NumberFormat.duration(seconds: $0))" } ?? " until Ctrl-C"))
        let lastLine = Mutex(ContinuousClock.now)
        let done = try await recorder.run { progress in
            // A line every 5 s: enough to see it work, little enough for a log file.
            let due = lastLine.withLock { last in
                guard ContinuousClock.now - last >= .seconds(5) else { return false }
                last = ContinuousClock.now
                return true
            }
            if due { note("recording: " + progress.line) }
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? nil) ?? 0
        say("recorded \(done.line) into \(out) (\(NumberFormat.bytes(Int64(size))))")
        for omission in done.notes { note("note: " + omission) }
        say("open it with: evtop --broker file:\(out)")
    }

    private static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The recording `:record` runs from the dashboard: one at a time, its progress and end posted to the
/// session; quitting the dashboard finishes its file first (``finish()``).
final class DashboardRecording: Sendable {
    private let running = Mutex<(recorder: IncidentRecorder, task: Task<Void, Never>)?>(nil)

    /// Starts recording `source` into `path` (records from 15 minutes back, as `evtop record` does).
    func start(source: OpenedSource, rules: CorrelationRules, path: String, duration: TimeInterval?, mailbox: ActionMailbox) -> Task<Void, Never>? {
        let out = Paths.expand(path)
        let recorder: IncidentRecorder
        do {
            recorder = try IncidentRecorder(source: source, rules: rules,
                                            plan: RecordingPlan(out: out, from: .time(Int64(Date().addingTimeInterval(-15 * 60).timeIntervalSince1970 * 1000)),
                                                                duration: duration))
        } catch {
            mailbox.post(.recordingUpdated(elapsed: nil, finished: "cannot record: \(TerminalSafe.text(error))", isError: true))
            return nil
        }
        let task = Task.detached { [self] in
            do {
                let done = try await recorder.run { progress in
                    mailbox.post(.recordingUpdated(elapsed: NumberFormat.duration(seconds: progress.elapsed), finished: nil, isError: false))
                }
                let left = done.notes.isEmpty ? "" : " (" + done.notes.joined(separator: "; ") + ")"
                mailbox.post(.recordingUpdated(elapsed: nil, finished: "recorded \(out): \(done.line)\(left) · open it with --broker file:",
                                               isError: false))
            } catch {
                mailbox.post(.recordingUpdated(elapsed: nil, finished: TerminalSafe.text(error), isError: true))
            }
            self.running.withLock { if $0?.recorder === recorder { $0 = nil } }
        }
        running.withLock { $0 = (recorder, task) }
        return task
    }

    /// Asks the running recording to end (it finishes its file: spans, index).
    func stop() { running.withLock { $0?.recorder.stop() } }

    /// Ends the running recording, if any, and waits until its file is finished.
    func finish() async {
        guard let task = running.withLock({ $0?.task }) else { return }
        stop()
        await task.value
    }
}
