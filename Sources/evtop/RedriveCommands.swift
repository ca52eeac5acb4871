import Foundation
import ArgumentParser
import Dispatch
import EventModel
import Dashboard
import Redrive
import TerminalUI
import KafkaLog
import Synchronization

/// Where a source's redrive journal lives: next to an embedded store, else in the state folder,
/// named after the Kafka cluster's id (see ``SourceFiles``).
enum JournalLocation {
    static func path(for url: BrokerURL, log: any BrokerLog) async throws -> String {
        switch url {
        case .sqlite(let path):
            return path + ".redrive"
        case .kafka(let bootstrap):
            guard let id = await SourceFiles.clusterID(of: log) else {
                // Never guess: a journal of another cluster would mark its letters as already requeued.
                throw OperatorError("cannot tell which Kafka cluster \(bootstrap.joined(separator: ",")) is: no broker answered with its cluster id "
                                    + "(is it reachable?). The redrive journal is named after it; --journal PATH names one yourself")
            }
            return Paths.stateDirectory + "/redrive/" + SourceFiles.stem(clusterID: id) + ".journal"
        }
    }
}

/// Names of evtop's local files for a Kafka cluster (redrive journal, correlation index).
enum SourceFiles {
    /// How long a command waits for the cluster to say its id.
    static let clusterIDTimeoutMillis: Int32 = 5000

    /// The cluster id of a Kafka source, nil for other sources or when no broker answered in time.
    static func clusterID(of log: any BrokerLog, timeoutMillis: Int32 = clusterIDTimeoutMillis) async -> String? {
        guard let kafka = log as? KafkaLog else { return nil }
        return await kafka.clusterID(timeoutMillis: timeoutMillis)
    }

    /// `kafka-CLUSTERID`: one name per cluster, however its servers are spelled (`a,b`, `b,a`, `a`), and
    /// a new one for a cluster rebuilt at the same address. Characters other than letters, digits, `.`
    /// and `-` become `_`.
    static func stem(clusterID: String) -> String {
        "kafka-" + String(clusterID.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

/// The dashboard's journal path, found on first use: for Kafka it needs the cluster's id, which a
/// cluster that is down at start cannot give yet (evtop keeps running and asks again later).
final class JournalLocator: Sendable {
    private let url: BrokerURL
    private let log: any BrokerLog
    private let found = Mutex<String?>(nil)

    init(url: BrokerURL, log: any BrokerLog) {
        self.url = url
        self.log = log
    }

    /// The journal path, once known.
    func path() async throws -> String {
        if let known = found.withLock({ $0 }) { return known }
        let path = try await JournalLocation.path(for: url, log: log)
        found.withLock { $0 = path }
        return path
    }
}

/// Options shared by the commands that write (requeue, replay).
struct MoveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Messages per second (default: as fast as the broker takes them).", valueName: "n"))
    var rate: Double?

    @Flag(name: .long, help: "Show what would move, and where; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation (needed when stdin is not a terminal).")
    var yes = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default: STORE.redrive next to an embedded store, else under $XDG_STATE_HOME/evtop/redrive/).", valueName: "path"))
    var journal: String?

    func validate() throws {
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be between 0 and 1000000 messages per second") }
    }
}

/// The user name for the audit trail.
enum Operator {
    static var name: String {
        if let user = Paths.nonEmpty(Paths.environment["USER"]) ?? Paths.nonEmpty(Paths.environment["LOGNAME"]) { return user }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}

/// Turns SIGINT/SIGTERM into a cancel flag while a job runs, so the batch in flight finishes and
/// the journal stays consistent (a second signal exits at once; the journal resumes the job).
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var jobRunning = false
    private var sources: [DispatchSourceSignal] = []

    /// Marks whether a job is running: a signal outside a job (at the confirm prompt, say)
    /// simply ends the command.
    func setJobRunning(_ running: Bool) { lock.lock(); jobRunning = running; lock.unlock() }

    /// True once a signal arrived.
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Starts listening for SIGINT and SIGTERM.
    func install() {
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let second = self.cancelled
                let inJob = self.jobRunning
                self.cancelled = true
                self.lock.unlock()
                if !inJob {
                    FileHandle.standardError.write(Data("\n".utf8))
                    exit(130)
                }
                if second {
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
                FileHandle.standardError.write(Data("\ncancelling after the batch in flight (again to stop at once; the job resumes on the next start)\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// Runs jobs from the command line: resume first, confirm, progress on stderr, report.
enum MoveRunner {
    /// Opens the log and journal for a writing command (refusing under --read-only).
    static func open(_ source: SourceOptions, _ move: MoveOptions) async throws -> (log: any BrokerLog, journal: RedriveJournal?, url: BrokerURL, ownsJournal: Bool) {
        let resolved = try source.resolve()
        if source.readOnly && !move.dryRun {
            throw OperatorError("read-only: requeue and replay are disabled (--read-only); --dry-run still shows what would move")
        }
        let log = try SourceFactory.open(resolved.url, readOnly: move.dryRun, create: false, kafka: source.kafkaOptions(resolved.context))
        let path: String
        if let chosen = move.journal { path = Paths.expand(chosen) } else { path = try await JournalLocation.path(for: resolved.url, log: log) }
        let journal: RedriveJournal?
        if move.dryRun {
            journal = FileManager.default.fileExists(atPath: path) ? try RedriveJournal(path: path, readOnly: true) : nil
        } else {
            journal = try RedriveJournal(path: path)
        }
        return (log, journal, resolved.url, move.journal == nil)
    }

    /// Finishes jobs a killed process left behind, saying so on stderr. A failure here is a
    /// warning: the operator's own job still runs (the journal keeps the old one for later).
    static func resume(_ engine: RedriveEngine, cancel: CancelFlag) async {
        cancel.setJobRunning(true)
        defer { cancel.setJobRunning(false) }
        do {
            let reports = try await engine.resumeInterrupted(progress: { p in
                FileHandle.standardError.write(Data("resuming interrupted job \(p.jobID): \(p.moved)/\(p.total)\n".utf8))
            }, isCancelled: { cancel.isCancelled })
            for r in reports {
                FileHandle.standardError.write(Data("resumed interrupted job \(r.jobID): \(r.moved) moved in all, \(r.failed) failed\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("warning: an interrupted job could not be resumed now (\(TextWidth.sanitized(String(describing: error)))); `evtop dlq resume` retries it\n".utf8))
        }
    }

    /// Asks on the terminal unless --yes; refuses when there is no terminal to ask on.
    static func confirm(_ question: String, yes: Bool) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) != 0 else {
            throw OperatorError("\(question) — not confirmed: stdin is not a terminal; add --yes to go ahead")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw ExitCode(1) }
    }

    /// Runs a request with progress on stderr and prints the report; exit 1 when something failed, 130 when cancelled.
    static func run(_ request: RedriveRequest, engine: RedriveEngine, cancel: CancelFlag, json: Bool) async throws {
        let interactive = isatty(STDERR_FILENO) != 0
        let throttle = PrintThrottle(interval: 0.5)
        cancel.install()
        cancel.setJobRunning(true)
        defer { cancel.setJobRunning(false) }
        let report = try await engine.run(request, progress: { p in
            let now = Date().timeIntervalSince1970
            guard throttle.allows(now: now) else { return }
            let eta = p.etaSeconds.map { " · ETA " + NumberFormat.duration(seconds: $0) } ?? ""
            let line = "moved \(p.moved)/\(p.total) · \(NumberFormat.rate(p.ratePerSecond))/s\(eta)" + (p.waiting.map { " · " + $0 } ?? "")
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" : "") .utf8) + Data(TextWidth.sanitized(line).utf8) + Data((interactive ? "" : "\n").utf8))
        }, isCancelled: { cancel.isCancelled })
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            print(TerminalSafe.json(try ScriptJSON.encode(ReportJSON(report, request: request))))
        } else {
            print(TextWidth.sanitized(summary(report, request: request)))
        }
        if report.cancelled { throw ExitCode(130) }
        if report.failed > 0 { throw ExitCode(1) }
    }

    static func summary(_ r: RedriveReport, request: RedriveRequest) -> String {
        let verb = request.kind == .replay ? "copied" : "requeued"
        var lines: [String] = []
        let targets = r.targets.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        if r.dryRun {
            lines.append("dry run: would have \(verb) \(r.moved) of \(r.selected) from \(request.sourceTopic)" + (targets.isEmpty ? "" : " → \(targets)"))
        } else {
            lines.append("\(r.cancelled ? "cancelled: " : "")\(verb) \(r.moved) of \(r.selected) from \(request.sourceTopic)"
                         + (targets.isEmpty ? "" : " → \(targets)") + " (job \(r.jobID))")
        }
        if r.skipped > 0 { lines.append("skipped \(r.skipped) already requeued by an earlier job") }
        if r.failed > 0 {
            lines.append("failed \(r.failed):")
            for f in r.failures.prefix(20) { lines.append("  \(f.redriveID): \(f.reason)") }
            if r.failed > 20 { lines.append("  … and \(r.failed - 20) more") }
        }
        return lines.joined(separator: "\n")
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
        var failed: Int
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
            failed = r.failed
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

/// `evtop dlq requeue`: sends dead letters back to their original topic (or `--to`), exactly once.
struct DLQRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Requeue dead letters, oldest first, exactly once (through the redrive journal).",
        discussion: """
        Each letter goes back to the topic its headers name (kafka_dlt-original-topic, \
        __connect.errors.topic), to its original partition, with key, value and its non-DLT headers, \
        plus evtop-redrive-id. Letters an earlier job already requeued are skipped. A job killed \
        midway is finished by the next requeue, `evtop dlq resume` or the dashboard. \
        Exit status: 0 done, 1 some letters failed (listed), 130 cancelled.
        """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var move: MoveOptions

    @Option(name: .customLong("dlq-topic"), help: ArgumentHelp("The DLQ topic to requeue from.", valueName: "topic"))
    var dlqTopic: String

    @Option(name: .long, help: ArgumentHelp("Send every letter to this topic instead of its original topic.", valueName: "topic"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("At most this many letters (oldest first).", valueName: "n"))
    var max: Int?

    @Option(name: .long, help: ArgumentHelp("Only letters whose row matches this regex (as the dashboard's / filter; !x inverts).", valueName: "expr"))
    var filter: String?

    func validate() throws {
        if let max, max < 1 { throw ValidationError("--max must be at least 1") }
    }

    func run() async throws {
        let (log, journal, _, ownsJournal) = try await MoveRunner.open(source, move)
        let engine = RedriveEngine(log: log, journal: journal, ownsJournal: ownsJournal)
        let cancel = CancelFlag()
        // Jobs a killed evtop left midway are finished first (the operator confirmed them when
        // they started); their letters are then "already requeued" for the selection below.
        if !move.dryRun {
            cancel.install()
            await MoveRunner.resume(engine, cancel: cancel)
        }
        let letters = try await DeadLetterSelection.select(log: log, topic: dlqTopic, filter: filter ?? "", max: max, journal: journal)
        let positions = letters.map(\.position)
        guard !positions.isEmpty else {
            print("nothing to requeue from \(TextWidth.sanitized(dlqTopic))" + (filter.map { " matching \(TextWidth.sanitized($0))" } ?? ""))
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
        try await MoveRunner.run(request, engine: engine, cancel: cancel, json: move.json)
    }
}

/// Picks dead letters from a DLQ topic for a requeue.
enum DeadLetterSelection {
    /// Letters of `topic`, oldest first, that match `filter` and are not already requeued or in a
    /// job; at most `max`. Reads partitions in chunks: memory O(partitions × max), not O(topic).
    static func select(log: any BrokerLog, topic: String, filter: String, max: Int?, journal: RedriveJournal?) async throws -> [(time: Int64, position: RecordPosition)] {
        let info: TopicInfo
        do { info = try await log.watermarks(topic: topic) } catch BrokerError.unknownTopic {
            throw OperatorError("no topic named \(TextWidth.sanitized(topic))")
        }
        let rowFilter = RowFilter(filter)
        let offset = TimeZone.current.secondsFromGMT()
        let limit = max ?? Int.max
        var candidates: [(time: Int64, position: RecordPosition)] = []
        for p in info.partitions where p.high > p.low {
            var next = p.low
            var taken = 0
            while next < p.high, taken < limit {
                let records = try await log.fetch(topic: topic, partition: p.partition, from: next, maxRecords: 1000)
                guard let last = records.last else { break }
                next = last.offset + 1
                let states = try journal?.states(topic: topic, positions: records.map { ($0.partition, $0.offset, $0.timestampMillis) }) ?? [:]
                for r in records where taken < limit {
                    let position = RecordPosition(topic: r.topic, partition: r.partition, offset: r.offset)
                    let state = states[position]
                    if let state, state != .failed { continue }
                    if !filter.isEmpty {
                        let row = DeadLetterModel.row(DeadLetterParser.parse(r), redrive: state)
                        guard rowFilter.matches(DeadLetterModel.filterText(row, utcOffsetSeconds: offset)) else { continue }
                    }
                    candidates.append((r.timestampMillis, position))
                    taken += 1
                }
            }
        }
        candidates.sort { a, b in
            a.time != b.time ? a.time < b.time : (a.position.partition, a.position.offset) < (b.position.partition, b.position.offset)
        }
        return Array(candidates.prefix(limit))
    }
}

/// `evtop dlq resume`: finishes jobs a killed process left behind, then exits.
struct DLQResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish redrive and replay jobs that a killed or crashed evtop left midway (exactly once)."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default as for requeue).", valueName: "path"))
    var journal: String?

    func run() async throws {
        guard !source.readOnly else { throw OperatorError("read-only: resume is disabled (--read-only)") }
        let resolved = try source.resolve()
        let log = try SourceFactory.open(resolved.url, readOnly: false, create: false, kafka: source.kafkaOptions(resolved.context))
        let path: String
        if let journal { path = Paths.expand(journal) } else { path = try await JournalLocation.path(for: resolved.url, log: log) }
        guard FileManager.default.fileExists(atPath: path) else { print("no redrive journal at \(path): nothing to resume"); return }
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path), ownsJournal: journal == nil)
        let cancel = CancelFlag()
        cancel.install()
        let reports = try await engine.resumeInterrupted(isCancelled: { cancel.isCancelled })
        if reports.isEmpty { print("no interrupted jobs") }
        for r in reports { print("resumed \(r.jobID): \(r.moved) moved in all, \(r.failed) failed\(r.cancelled ? " (cancelled job: in-flight letters resolved)" : "")") }
    }
}

/// `evtop dlq jobs`: the audit trail of redrive and replay jobs.
struct DLQJobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List redrive and replay jobs (who, when, what, where, counts), newest first."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Newest jobs to show.", valueName: "n"))
    var max: Int = 50

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default as for requeue).", valueName: "path"))
    var journal: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let resolved = try source.resolve()
        let path: String
        switch (journal, resolved.url) {
        case (let chosen?, _): path = Paths.expand(chosen)
        case (nil, .sqlite(let store)): path = store + ".redrive"
        case (nil, .kafka):
            // Kafka journals are named after the cluster's id: ask the cluster for it.
            let log = try SourceFactory.open(resolved.url, readOnly: true, create: false, kafka: source.kafkaOptions(resolved.context))
            path = try await JournalLocation.path(for: resolved.url, log: log)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            if json { print("[]") } else { print("no redrive journal at \(path): no jobs yet") }
            return
        }
        let jobs = try RedriveJournal(path: path, readOnly: true).jobs(limit: Swift.max(1, max))
        if json {
            print(TerminalSafe.json(try ScriptJSON.encode(jobs)))
            return
        }
        let rows = jobs.map { j -> [String] in
            [j.id, j.kind, DLQOutput.iso(j.createdAtMillis), j.user, j.sourceTopic, j.targetOverride ?? "original",
             j.selection, j.state, String(j.selected), String(j.moved), String(j.skipped), String(j.failed)].map(TextWidth.sanitized)
        }
        print(TextTable.render(header: ["JOB", "KIND", "STARTED", "USER", "FROM", "TO", "SELECTION", "STATE", "SELECTED", "MOVED", "SKIPPED", "FAILED"],
                               rows: rows, rightAligned: [8, 9, 10, 11]), terminator: "")
    }
}

/// `evtop replay`: copies a range of records to another topic (again on purpose, each time it runs).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Copy a range of records from one topic to another, through the redrive journal.",
        discussion: """
        Copies offsets FROM..<FROM+LIMIT of one partition (--partition), or of every partition when \
        --partition is not given, keeping key, value, timestamp and headers, to the same partition \
        number of the target when it has one. Each run is a new job: replaying a range twice copies it twice, \
        but a killed replay resumes without duplicates.
        """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var move: MoveOptions

    @Option(name: .customLong("source-topic"), help: ArgumentHelp("Topic to copy from.", valueName: "topic"))
    var sourceTopic: String

    @Option(name: .customLong("target-topic"), help: ArgumentHelp("Topic to copy to (must exist).", valueName: "topic"))
    var targetTopic: String

    @Option(name: .customLong("from-offset"), help: ArgumentHelp("First offset to copy.", valueName: "offset"))
    var fromOffset: Int64

    @Option(name: .long, help: ArgumentHelp("Records to copy per partition.", valueName: "n"))
    var limit: Int64

    @Option(name: .long, help: ArgumentHelp("Only this partition.", valueName: "p"))
    var partition: Int32?

    func validate() throws {
        guard fromOffset >= 0 else { throw ValidationError("--from-offset must be 0 or more") }
        guard limit >= 1, limit <= 10_000_000 else { throw ValidationError("--limit must be between 1 and 10000000") }
        guard sourceTopic != targetTopic else { throw ValidationError("--source-topic and --target-topic must differ") }
    }

    func run() async throws {
        let (log, journal, _, ownsJournal) = try await MoveRunner.open(source, move)
        let engine = RedriveEngine(log: log, journal: journal, ownsJournal: ownsJournal)
        let cancel = CancelFlag()
        if !move.dryRun {
            cancel.install()
            await MoveRunner.resume(engine, cancel: cancel)
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
        guard !positions.isEmpty else {
            print("nothing to copy: offsets \(fromOffset)..<\(fromOffset.addingSaturating(limit)) hold no records in \(TextWidth.sanitized(sourceTopic))")
            return
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
