import Foundation
import Dispatch
import Synchronization
import EventModel
import Dashboard
import Redrive
import TerminalUI

/// What the writing commands (requeue, replay) were told besides their selection.
public struct MoveSettings: Sendable {
    /// Messages per second (nil: as fast as the broker takes them).
    public var rate: Double?
    /// Show what would move, and where; write nothing.
    public var dryRun: Bool
    /// Do not ask for confirmation.
    public var yes: Bool
    /// Print the report as JSON.
    public var json: Bool
    /// A redrive journal chosen by hand (default: the source's own).
    public var journal: String?

    /// Creates settings.
    public init(rate: Double?, dryRun: Bool, yes: Bool, json: Bool, journal: String?) {
        self.rate = rate
        self.dryRun = dryRun
        self.yes = yes
        self.json = json
        self.journal = journal
    }
}

/// The dashboard's journal path, found on first use: it needs the source's identity, which a Kafka
/// cluster that is down at start cannot give yet (evtop keeps running and asks again later).
final class JournalLocator: Sendable {
    private let reader: any LogReader
    private let found = Mutex<String?>(nil)

    init(reader: any LogReader) {
        self.reader = reader
    }

    /// The journal path, once known.
    func path() async throws -> String {
        if let known = found.withLock({ $0 }) { return known }
        let path = try await SourceFiles.journalPath(of: reader)
        found.withLock { $0 = path }
        return path
    }
}

/// `evtop dlq requeue`, `resume`, `jobs` and `evtop replay`: jobs through the redrive journal.
public enum RedriveJobs {
    /// Requeues letters of `dlqTopic` (oldest first, matching `filter`, at most `max`) to their original topic or `to`.
    public static func requeue(source: SourceSelection, move: MoveSettings, dlqTopic: String, to: String?, max: Int?, filter: String?) async throws {
        let opened = try MoveRunner.openSource(source, move)
        if opened.lettersAreQueued {
            return try await QueueRequeue.requeue(opened: opened, move: move, queue: dlqTopic, to: to, max: max, filter: filter)
        }
        let (log, journal, engine) = try await MoveRunner.open(opened, move)
        let cancel = CancelFlag()
        // Jobs a killed evtop left midway are finished first (the operator confirmed them when
        // they started); their letters are then "already requeued" for the selection below.
        if !move.dryRun {
            cancel.install()
            await MoveRunner.resume(engine, cancel: cancel)
            // Cancelled while finishing an interrupted job: stop there, before selecting anything new.
            if cancel.isCancelled { throw ExitStatus(130) }
        }
        let (letters, alreadyMoved) = try await DeadLetterSelection.selectCounting(log: log, topic: dlqTopic, filter: filter ?? "", max: max, journal: journal)
        let positions = letters.map(\.position)
        guard !positions.isEmpty else {
            if move.json {
                // Scripts get the report they asked for, not a sentence.
                let empty = RedriveReport(jobID: "", selected: 0, moved: 0, skipped: alreadyMoved, failures: [], failed: 0,
                                          targets: [:], cancelled: false, dryRun: move.dryRun)
                let request = RedriveRequest(kind: .redrive, sourceTopic: dlqTopic, positions: [], targetOverride: to, ratePerSecond: move.rate,
                                             dryRun: move.dryRun, selectionDescription: "none", user: Operator.name)
                print(TerminalSafe.json(try ScriptJSON.encode(MoveRunner.ReportJSON(empty, request: request))))
                return
            }
            print("nothing to requeue from \(TextWidth.sanitized(dlqTopic))" + (filter.map { " matching \(TextWidth.sanitized($0))" } ?? "")
                  + (alreadyMoved > 0 ? " (\(alreadyMoved) already requeued, skipped or in a job)" : ""))
            return
        }
        var selection = "\(positions.count) oldest"
        if let filter { selection += " matching /\(filter)/" }
        let request = RedriveRequest(kind: .redrive, sourceTopic: dlqTopic, positions: positions, targetOverride: to,
                                     ratePerSecond: move.rate, dryRun: move.dryRun, selectionDescription: selection, user: Operator.name,
                                     timestamps: Dictionary(letters.map { ($0.position, $0.time) }, uniquingKeysWith: { a, _ in a }))
        if !move.dryRun {
            let rate = move.rate.map { "at \(NumberFormat.rate($0))/s" } ?? "unthrottled"
            try MoveRunner.confirm("Requeue \(positions.count) dead letters from \(TextWidth.sanitized(dlqTopic)) to \(TextWidth.sanitized(to ?? "their original topics")), \(rate)?", yes: move.yes)
        }
        try await MoveRunner.run(request, engine: engine, cancel: cancel, json: move.json, alreadySkipped: alreadyMoved)
    }

    /// A dry run over every DLQ of the source at once: what each would requeue, and where, then the
    /// totals. Writes nothing (the source is opened read-only); a real requeue names one DLQ at a time.
    public static func dryRunEveryDLQ(source: SourceSelection, move: MoveSettings, to: String?, max: Int?, filter: String?) async throws {
        var move = move
        move.dryRun = true
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        if opened.lettersAreQueued {
            throw OperatorError("--all-dlqs reads logs; on \(opened.description) dry-run one queue at a time with --dlq-topic")
        }
        let (log, journal, engine) = try await MoveRunner.open(opened, move)
        let topics = try await DeadLetterReport.everyDeadLetterTopic(log: log, patterns: resolved.context?.deadLetterPatterns)
        var results: [(report: RedriveReport, request: RedriveRequest)] = []
        for topic in topics {
            let (letters, alreadyMoved) = try await DeadLetterSelection.selectCounting(log: log, topic: topic.name, filter: filter ?? "",
                                                                                       max: max, journal: journal)
            let request = RedriveRequest(kind: .redrive, sourceTopic: topic.name, positions: letters.map(\.position), targetOverride: to,
                                         ratePerSecond: move.rate, dryRun: true, selectionDescription: "every DLQ", user: Operator.name,
                                         timestamps: Dictionary(letters.map { ($0.position, $0.time) }, uniquingKeysWith: { a, _ in a }))
            var report = letters.isEmpty
                ? RedriveReport(jobID: "dry-run", selected: 0, moved: 0, skipped: 0, failures: [], failed: 0, targets: [:], cancelled: false, dryRun: true)
                : try await engine.run(request)
            report.skipped += alreadyMoved
            results.append((report, request))
        }
        let total = (selected: results.reduce(0) { $0 + $1.report.selected }, moved: results.reduce(0) { $0 + $1.report.moved },
                     skipped: results.reduce(0) { $0 + $1.report.skipped }, failed: results.reduce(0) { $0 + $1.report.failed })
        if move.json {
            struct EveryDLQ: Encodable {
                var dryRun = true
                var dlqs: [MoveRunner.ReportJSON]
                var selected: Int, moved: Int, skipped: Int, failed: Int
            }
            let out = EveryDLQ(dlqs: results.map { MoveRunner.ReportJSON($0.report, request: $0.request) },
                               selected: total.selected, moved: total.moved, skipped: total.skipped, failed: total.failed)
            print(TerminalSafe.json(try ScriptJSON.encode(out)))
        } else if results.isEmpty {
            print("no dead-letter topics on \(opened.description)")
        } else {
            for (report, request) in results {
                print(MoveRunner.summary(report, request: request))
            }
            print(TextWidth.sanitized("every DLQ (\(results.count)): would have requeued \(total.moved) of \(total.selected)"
                  + (total.skipped > 0 ? ", skipped \(total.skipped) already requeued, skipped or in a job" : "")
                  + (total.failed > 0 ? ", \(total.failed) would fail" : "")))
        }
        if total.failed > 0 { throw ExitStatus(1) }
    }

    /// Finishes jobs a killed process left behind, then returns.
    public static func resume(source: SourceSelection, journal: String?) async throws {
        guard !source.readOnly else { throw OperatorError("read-only: resume is disabled (--read-only)") }
        let opened = try source.resolve().open(readOnly: false)
        let path: String
        if let journal { path = Paths.expand(journal) } else { path = try await SourceFiles.journalPath(of: opened.reader) }
        guard FileManager.default.fileExists(atPath: path) else { print("no redrive journal at \(path): nothing to resume"); return }
        if let mover = opened.queueMover {
            let engine = QueueRedriveEngine(mover: mover, sourceDescription: opened.description, journal: try RedriveJournal(path: path),
                                            ownsJournal: journal == nil)
            let cancel = CancelFlag()
            cancel.install()
            cancel.setJobRunning(true)
            let reports = try await engine.resumeInterrupted(progress: MoveRunner.progressPrinter("resuming: moved"), isCancelled: { cancel.isCancelled })
            cancel.setJobRunning(false)
            MoveRunner.endProgress()
            if reports.isEmpty { print("no interrupted jobs") }
            for r in reports { print("resumed \(r.jobID): \(r.moved) moved in all, \(r.failed) failed, \(r.sentAgainAfterDoubt) sent again after doubt") }
            return
        }
        guard let log = opened.writable else { throw OperatorError("\(opened.description) cannot be written to: nothing can be resumed") }
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path), ownsJournal: journal == nil)
        let cancel = CancelFlag()
        cancel.install()
        cancel.setJobRunning(true)
        let reports = try await engine.resumeInterrupted(progress: MoveRunner.progressPrinter("resuming: moved"),
                                                         isCancelled: { cancel.isCancelled })
        cancel.setJobRunning(false)
        MoveRunner.endProgress()
        if reports.isEmpty { print("no interrupted jobs") }
        for r in reports { print("resumed \(r.jobID): \(r.moved) moved in all, \(r.failed) failed\(r.cancelled ? " (cancelled job: in-flight letters resolved)" : "")") }
    }

    /// Prints the newest `max` jobs of the journal.
    public static func jobs(source: SourceSelection, journal: String?, max: Int, json: Bool) async throws {
        let path: String
        if let chosen = journal {
            path = Paths.expand(chosen)
        } else {
            path = try await SourceFiles.journalPath(of: try source.resolve().open(readOnly: true).reader)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            if json { print("[]") } else { print("no redrive journal at \(path): no jobs yet") }
            return
        }
        let journal = try RedriveJournal(path: path, readOnly: true)
        var jobs = try journal.jobs(limit: Swift.max(1, max))
        // Only a queue job can leave a letter in doubt for good: a log job resolves its intents by searching the target.
        for i in jobs.indices where jobs[i].kind == QueueRedriveEngine.kind { jobs[i].inDoubt = try journal.inDoubtCount(jobs[i].id) }
        if json {
            print(TerminalSafe.json(try ScriptJSON.encode(jobs)))
            return
        }
        let rows = jobs.map { j -> [String] in
            [j.id, j.kind, DLQOutput.iso(j.createdAtMillis), j.user, j.sourceTopic, j.targetOverride ?? "original",
             j.selection, j.state, String(j.selected), String(j.moved), String(j.skipped), String(j.failed), j.inDoubt.map(String.init) ?? "–"].map(TextWidth.sanitized)
        }
        print(TextTable.render(header: ["JOB", "KIND", "STARTED", "USER", "FROM", "TO", "SELECTION", "STATE", "SELECTED", "MOVED", "SKIPPED", "FAILED", "IN DOUBT"],
                               rows: rows, rightAligned: [8, 9, 10, 11, 12]), terminator: "")
    }

    /// Copies offsets `fromOffset..<fromOffset+limit` of `partition` (or every partition) of `sourceTopic` to `targetTopic`.
    public static func replay(source: SourceSelection, move: MoveSettings, sourceTopic: String, targetTopic: String,
                              fromOffset: Int64, limit: Int64, partition: Int32?) async throws {
        let (log, _, engine) = try await MoveRunner.open(source, move)
        let cancel = CancelFlag()
        if !move.dryRun {
            cancel.install()
            await MoveRunner.resume(engine, cancel: cancel)
            // Cancelled while finishing an interrupted job: stop there, before selecting anything new.
            if cancel.isCancelled { throw ExitStatus(130) }
        }
        let info: TopicInfo
        do { info = try await log.watermarks(topic: sourceTopic) } catch BrokerError.unknownTopic {
            throw OperatorError("no topic named \(TextWidth.sanitized(sourceTopic))")
        }
        var partitions = info.partitions
        if let partition {
            partitions = partitions.filter { $0.partition == partition }
            guard !partitions.isEmpty else { throw OperatorError("topic \(TextWidth.sanitized(sourceTopic)) has no partition \(partition)") }
        }
        var positions: [RecordPosition] = []
        for p in partitions {
            let start = Swift.max(fromOffset, p.low)
            let end = Swift.min(fromOffset.addingSaturating(limit), p.high)
            if start < end { positions += (start..<end).map { RecordPosition(topic: sourceTopic, partition: p.partition, offset: $0) } }
        }
        // Offsets below a partition's log start were deleted by retention: say so, as Kafka's "offset out of range" would.
        let deleted = partitions.filter { fromOffset < $0.low }
        let gone = deleted.map { "partition \($0.partition) starts at \($0.low)" }.joined(separator: ", ")
        guard !positions.isEmpty else {
            print("nothing to copy: offsets \(fromOffset)..<\(fromOffset.addingSaturating(limit)) hold no records in \(TextWidth.sanitized(sourceTopic))"
                  + (deleted.isEmpty ? "" : " (retention deleted the older records: \(gone))"))
            return
        }
        if !deleted.isEmpty {
            // On stderr: stdout may be --json.
            FileHandle.standardError.write(Data("evtop replay: offsets below the log start were deleted by retention (\(gone)); copying from there\n".utf8))
        }
        let selection = "offsets \(fromOffset)..<\(fromOffset.addingSaturating(limit))" + (partition.map { " of partition \($0)" } ?? " of every partition")
        let request = RedriveRequest(kind: .replay, sourceTopic: sourceTopic, positions: positions, targetOverride: targetTopic,
                                     ratePerSecond: move.rate, dryRun: move.dryRun, selectionDescription: selection, user: Operator.name)
        if !move.dryRun {
            try MoveRunner.confirm("Copy \(positions.count) records from \(TextWidth.sanitized(sourceTopic)) to \(TextWidth.sanitized(targetTopic))?", yes: move.yes)
        }
        try await MoveRunner.run(request, engine: engine, cancel: cancel, json: move.json)
    }
}

/// Turns SIGINT/SIGTERM into a cancel flag while a job runs, so the batch in flight finishes and
/// the journal stays consistent (a second signal exits at once; the journal resumes the job).
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var jobRunning = false

    /// Marks whether a job is running: a signal outside a job (at the confirm prompt, say)
    /// simply ends the command.
    func setJobRunning(_ running: Bool) { lock.lock(); jobRunning = running; lock.unlock() }

    /// True once a signal arrived.
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Starts listening for SIGINT and SIGTERM.
    func install() {
        Interrupts.route { [weak self] sig in
            guard let self else { Interrupts.dieBy(sig) }
            self.lock.lock()
            let second = self.cancelled
            let inJob = self.jobRunning
            self.cancelled = true
            self.lock.unlock()
            if !inJob {
                FileHandle.standardError.write(Data("\n".utf8))
                exit(130)
            }
            if second { Interrupts.dieBy(sig) }
            FileHandle.standardError.write(Data("\ncancelling: stopping within a second; what is in flight stays in the journal for the next start (again to stop at once)\n".utf8))
        }
    }
}

/// Runs jobs from the command line: resume first, confirm, progress on stderr, report.
enum MoveRunner {
    /// Opens the log and journal for a writing command (refusing under --read-only).
    static func open(_ source: SourceSelection, _ move: MoveSettings) async throws -> (log: any LogReader, journal: RedriveJournal?, engine: RedriveEngine) {
        try await open(try openSource(source, move), move)
    }

    /// Opens the source of a writing command (refusing under --read-only); a dry run opens it read-only,
    /// so it cannot write even by mistake.
    static func openSource(_ source: SourceSelection, _ move: MoveSettings) throws -> OpenedSource {
        let resolved = try source.resolve()
        if source.readOnly && !move.dryRun {
            throw OperatorError("read-only: requeue and replay are disabled (--read-only); --dry-run still shows what would move")
        }
        return try resolved.open(readOnly: move.dryRun)
    }

    /// Opens the journal and engine of a writing command on an opened log source.
    static func open(_ opened: OpenedSource, _ move: MoveSettings) async throws -> (log: any LogReader, journal: RedriveJournal?, engine: RedriveEngine) {
        if !move.dryRun && opened.writable == nil { throw OperatorError("\(opened.description) cannot be written to: requeue and replay need a writable source") }
        let path: String
        if let chosen = move.journal { path = Paths.expand(chosen) } else { path = try await SourceFiles.journalPath(of: opened.reader) }
        let journal: RedriveJournal?
        if move.dryRun {
            journal = FileManager.default.fileExists(atPath: path) ? try RedriveJournal(path: path, readOnly: true) : nil
        } else {
            journal = try RedriveJournal(path: path)
        }
        return (opened.reader, journal, RedriveEngine(reader: opened.reader, writer: opened.writable, journal: journal, ownsJournal: move.journal == nil))
    }

    /// Finishes jobs a killed process left behind, saying so on stderr. A failure here is a
    /// warning: the operator's own job still runs (the journal keeps the old one for later).
    static func resume(_ engine: RedriveEngine, cancel: CancelFlag) async {
        cancel.setJobRunning(true)
        defer { cancel.setJobRunning(false) }
        do {
            let reports = try await engine.resumeInterrupted(progress: progressPrinter("resuming an interrupted job: moved"),
                                                             isCancelled: { cancel.isCancelled })
            endProgress()
            for r in reports {
                FileHandle.standardError.write(Data("resumed interrupted job \(r.jobID): \(r.moved) moved in all, \(r.failed) failed\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("warning: an interrupted job could not be resumed now (\(TextWidth.sanitized(String(describing: error)))); `evtop dlq resume` retries it\n".utf8))
        }
    }

    /// A job's progress on stderr: one line rewritten in place on a terminal, a line every half second
    /// otherwise. While the broker does not answer, the line says since when instead of an ETA.
    static func progressPrinter(_ label: String = "moved") -> @Sendable (RedriveProgress) -> Void {
        let interactive = isatty(STDERR_FILENO) != 0
        let throttle = PrintThrottle(interval: 0.5)
        return { p in
            guard throttle.allows(now: Date().timeIntervalSince1970) else { return }
            let eta = p.waiting == nil ? p.etaSeconds.map { " · ETA " + NumberFormat.duration(seconds: $0) } ?? "" : ""
            let line = "\(label) \(p.moved)/\(p.total) · \(NumberFormat.rate(p.ratePerSecond))/s\(eta)" + (p.waiting.map { " · " + $0 } ?? "")
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" : "") .utf8) + Data(TextWidth.sanitized(line).utf8) + Data((interactive ? "" : "\n").utf8))
        }
    }

    /// Clears the progress line on a terminal.
    static func endProgress() {
        if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Asks on the terminal unless --yes; refuses when there is no terminal to ask on.
    static func confirm(_ question: String, yes: Bool) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) != 0 else {
            throw OperatorError("\(question) — not confirmed: stdin is not a terminal; add --yes to go ahead")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw ExitStatus(1) }
    }

    /// Runs a request with progress on stderr and prints the report; exit 1 when something failed, 130 when cancelled.
    /// `alreadySkipped`: letters the selection left out because the journal has them requeued or in a job.
    static func run(_ request: RedriveRequest, engine: RedriveEngine, cancel: CancelFlag, json: Bool, alreadySkipped: Int = 0) async throws {
        cancel.install()
        cancel.setJobRunning(true)
        defer { cancel.setJobRunning(false) }
        var report = try await engine.run(request, progress: progressPrinter(), isCancelled: { cancel.isCancelled })
        endProgress()
        report.skipped += alreadySkipped
        if json {
            print(TerminalSafe.json(try ScriptJSON.encode(ReportJSON(report, request: request))))
        } else {
            print(summary(report, request: request))
        }
        if report.cancelled { throw ExitStatus(130) }
        if report.failed > 0 { throw ExitStatus(1) }
    }

    /// The report for the terminal: one line per fact, each made terminal-safe on its own (a newline
    /// in a topic name or a broker's reason shows as `␊` inside its line; the lines stay lines).
    static func summary(_ r: RedriveReport, request: RedriveRequest) -> String {
        summaryLines(r, request: request).map(TextWidth.sanitized).joined(separator: "\n")
    }

    /// The report's lines, as raw text.
    static func summaryLines(_ r: RedriveReport, request: RedriveRequest) -> [String] {
        let verb = request.kind == .replay ? "copied" : "requeued"
        var lines: [String] = []
        let targets = r.targets.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        if r.dryRun {
            lines.append("dry run: would have \(verb) \(r.moved) of \(r.selected) from \(request.sourceTopic)" + (targets.isEmpty ? "" : " → \(targets)"))
        } else {
            lines.append("\(r.cancelled ? "cancelled: " : "")\(verb) \(r.moved) of \(r.selected) from \(request.sourceTopic)"
                         + (targets.isEmpty ? "" : " → \(targets)") + " (job \(r.jobID))")
        }
        lines += skipLines(r)
        if r.inDoubt > 0 {
            lines.append("\(r.inDoubt) in doubt (sent when the broker stopped answering): kept in the journal; `evtop dlq resume` looks for them and sends only what did not land")
        }
        if r.sentAgainAfterDoubt > 0 {
            lines.append("\(r.sentAgainAfterDoubt) sent again after an interruption left their first publish unconfirmed: each may be in its target twice, both copies carrying the same evtop-redrive-id")
        }
        if r.failed > 0 {
            lines.append("failed \(r.failed):")
            for f in r.failures.prefix(20) { lines.append("  \(f.redriveID): \(f.reason)") }
            if r.failed > 20 { lines.append("  … and \(r.failed - 20) more") }
        }
        return lines
    }

    /// What was skipped and why: letters an ended job requeued, and letters a job still running holds
    /// (it started at the same time or while this one waited to be confirmed: not an "earlier" job).
    static func skipLines(_ r: RedriveReport) -> [String] {
        let toRunning = r.skippedToRunning.values.reduce(0, +)
        let earlier = r.skipped - toRunning
        var lines: [String] = []
        if earlier > 0 { lines.append("skipped \(earlier) already requeued or set aside (skipped) by an earlier job") }
        if toRunning > 0 {
            let jobs = r.skippedToRunning.keys.sorted()
            lines.append("skipped \(toRunning) taken by another job (still running: \(jobs.joined(separator: ", ")))")
        }
        return lines
    }

    struct ReportJSON: Encodable {
        var job: String
        var kind: String
        var sourceTopic: String
        var dryRun: Bool
        var cancelled: Bool
        var selected: Int
        var moved: Int
        var skipped: Int
        /// Of `skipped`: letters held by other jobs still running, by job id.
        var skippedToRunningJobs: [String: Int]
        var failed: Int
        var inDoubt: Int
        /// Queue redrive: letters published again after an unconfirmed first publish (possible duplicates).
        var sentAgainAfterDoubt: Int
        var targets: [String: Int]
        var failures: [[String: String]]

        init(_ r: RedriveReport, request: RedriveRequest) {
            job = r.jobID
            kind = request.kind.rawValue
            sourceTopic = request.sourceTopic
            dryRun = r.dryRun
            cancelled = r.cancelled
            selected = r.selected
            moved = r.moved
            skipped = r.skipped
            skippedToRunningJobs = r.skippedToRunning
            failed = r.failed
            inDoubt = r.inDoubt
            sentAgainAfterDoubt = r.sentAgainAfterDoubt
            targets = r.targets
            failures = r.failures.map { ["id": $0.redriveID, "reason": $0.reason] }
        }
    }
}

/// Lets progress lines through at most every `interval` seconds, from any thread.
final class PrintThrottle: @unchecked Sendable {
    // @unchecked: `last` is only touched under `lock`.
    private let lock = NSLock()
    private var last = 0.0
    private let interval: Double
    init(interval: Double) { self.interval = interval }

    /// True (and the clock restarts) when the last line was printed at least `interval` ago.
    func allows(now: Double) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard now - last >= interval else { return false }
        last = now
        return true
    }
}

