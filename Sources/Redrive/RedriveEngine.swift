import EventModel
import Foundation
import Synchronization

/// The engine's view of wall time and sleeping, injectable so tests control neither.
public struct RedriveClock: Sendable {
    /// Seconds since the epoch.
    public var now: @Sendable () -> Double
    /// Sleeps for seconds (cancellation-aware).
    public var sleep: @Sendable (Double) async -> Void

    /// Creates a clock.
    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system clock.
    public static let system = RedriveClock(
        now: { Date().timeIntervalSince1970 },
        sleep: { seconds in try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000)) })
}

/// Moves messages exactly once through the journal (docs/redrive.md):
/// intent (target + search offset) → produce with `evtop-redrive-id` → done.
/// An intent found without done is resolved by looking for its id in the target from the
/// search offset: found → done, not found → produced again.
public final class RedriveEngine: Sendable {
    /// Messages per batch: one journal transaction and one produce call each.
    public static let maxBatch = 500

    let log: any LogReader
    /// Nil for a source opened read-only: only dry runs are possible.
    let writer: (any LogWriter)?
    let journal: RedriveJournal?
    let clock: RedriveClock
    let pid: Int32
    let host: String
    /// True when the journal belongs to this source alone (the default journal of a store, or of a
    /// Kafka cluster named after its id): every unfinished job in it is then this source's, however
    /// the source was spelled when the job started. False for a journal chosen by hand, which
    /// several sources may share: only jobs of the same source description are resumed.
    let ownsJournal: Bool

    /// Creates an engine over a broker log and a journal (nil only for dry runs: they write nothing).
    public convenience init(log: any WritableLog, journal: RedriveJournal?, clock: RedriveClock = .system, ownsJournal: Bool = false) {
        self.init(reader: log, writer: log, journal: journal, clock: clock, ownsJournal: ownsJournal)
    }

    /// Creates an engine over a log that may not be writable (`writer` nil: dry runs only; a real run throws).
    public init(reader: any LogReader, writer: (any LogWriter)?, journal: RedriveJournal?, clock: RedriveClock = .system,
                ownsJournal: Bool = false) {
        // Every broker call goes through the running job's guard: a call that blocks never holds the job.
        self.log = GuardedReader(base: reader)
        self.writer = writer.map { GuardedWriter(base: $0) }
        self.journal = journal
        self.ownsJournal = ownsJournal
        self.clock = clock
        self.pid = getpid()
        self.host = ProcessInfo.processInfo.hostName
    }

    var nowMillis: Int64 { Int64(clock.now() * 1000) }

    // MARK: - Running

    /// Runs a job to the end (or until `isCancelled` says stop between batches).
    public func run(_ request: RedriveRequest,
                    progress: @escaping @Sendable (RedriveProgress) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) async throws -> RedriveReport {
        if request.dryRun { return try await dryRun(request) }
        let journal = try requireJournal()
        let created = nowMillis
        let jobID = Self.newJobID(millis: created)
        let items = request.positions.map { position -> (redriveID: String, source: RecordPosition) in
            switch request.kind {
            case .redrive: return (RedriveRules.redriveID(position, timestampMillis: request.timestamps[position]), position)
            case .replay: return ("replay:\(jobID):\(RedriveRules.redriveID(position))", position)
            }
        }
        let record = RedriveJobRecord(
            id: jobID, kind: request.kind.rawValue, source: log.sourceDescription, sourceTopic: request.sourceTopic,
            selection: request.selectionDescription, targetOverride: request.targetOverride,
            ratePerSecond: request.ratePerSecond, user: request.user, host: host, createdAtMillis: created,
            finishedAtMillis: nil, state: RedriveJobState.running.rawValue, selected: items.count, moved: 0, skipped: 0, failed: 0)
        // The owner lock is taken before the job exists, so no resumer can adopt it in between.
        guard let lock = JobLock.tryAcquire(journalPath: journal.path, jobID: jobID) else {
            throw JournalError.unavailable(journal.path, "cannot create the lock file of job \(jobID) next to it")
        }
        defer { withExtendedLifetime(lock) {} } // held until the run ends, however it ends
        let claim = try journal.createJob(record, items: items, pid: pid)
        var report = try await process(jobID: jobID, kind: request.kind, targetOverride: request.targetOverride,
                                       rate: request.ratePerSecond, selected: items.count, skipped: claim.skipped,
                                       cancelledJob: false, progress: progress, isCancelled: isCancelled)
        report.skippedToRunning = claim.skippedToRunning
        return report
    }

    /// Finishes every job of this source whose owner is gone (its lock can be taken: the kernel
    /// released it when the owner exited or was killed); returns their reports. Jobs whose
    /// owner still runs, however stalled, are left to it.
    public func resumeInterrupted(progress: @escaping @Sendable (RedriveProgress) -> Void = { _ in },
                                  isCancelled: @escaping @Sendable () -> Bool = { false }) async throws -> [RedriveReport] {
        var reports: [RedriveReport] = []
        let journal = try requireJournal()
        for candidate in try journal.unfinishedJobs(source: ownsJournal ? nil : log.sourceDescription) where candidate.kind != QueueRedriveEngine.kind {
            guard let lock = JobLock.tryAcquire(journalPath: journal.path, jobID: candidate.id) else { continue }
            guard let job = try journal.adopt(candidate.id, pid: pid, host: host, nowMillis: nowMillis) else { continue }
            let report = try await process(
                jobID: job.id, kind: RedriveRequest.Kind(rawValue: job.kind) ?? .redrive, targetOverride: job.targetOverride,
                rate: job.ratePerSecond, selected: job.selected, skipped: job.skipped,
                cancelledJob: job.state == RedriveJobState.cancelled.rawValue, progress: progress, isCancelled: isCancelled)
            withExtendedLifetime(lock) {}
            reports.append(report)
        }
        return reports
    }

    /// Sets letters of `topic` aside, or gives them back (`undo`): the journal only, nothing is read from or
    /// written to the broker. A skipped letter stays on the DLQ, shows as `skipped`, and no requeue selects it.
    /// Letters already requeued, or held by a running job, are left as they are. Returns how many changed.
    public func skip(topic: String, positions: [RecordPosition], timestamps: [RecordPosition: Int64],
                     selection: String, user: String, undo: Bool) throws -> Int {
        let journal = try requireJournal()
        let now = nowMillis
        let record = RedriveJobRecord(
            id: Self.newJobID(millis: now), kind: undo ? RedriveRequest.unskipKind : RedriveRequest.skipKind,
            source: log.sourceDescription, sourceTopic: topic, selection: selection, targetOverride: nil, ratePerSecond: nil,
            user: user, host: host, createdAtMillis: now, finishedAtMillis: nil, state: RedriveJobState.running.rawValue,
            selected: positions.count, moved: 0, skipped: 0, failed: 0)
        if undo { return try journal.unskip(record, positions: positions, nowMillis: now) }
        let items = positions.map { (redriveID: RedriveRules.redriveID($0, timestampMillis: timestamps[$0]), source: $0) }
        return try journal.skip(record, items: items, nowMillis: now).claimed
    }

    func requireJournal() throws -> RedriveJournal {
        guard let journal else { throw JournalError.unavailable("(none)", "a redrive needs a journal; only a dry run goes without") }
        return journal
    }

    /// Job ids sort by creation time and stay unique across processes.
    static func newJobID(millis: Int64) -> String {
        let stamp = String(millis, radix: 36)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "rd-\(stamp)-\(random)"
    }

    /// Runs a job's messages under a ``BrokerCallGuard``: a cancel stops it within a slice even while a
    /// broker call blocks, and a long call shows as "waiting for the broker since …" with the job's
    /// heartbeat still beating.
    private func process(jobID: String, kind: RedriveRequest.Kind, targetOverride: String?, rate: Double?,
                         selected: Int, skipped: Int, cancelledJob: Bool,
                         progress: @escaping @Sendable (RedriveProgress) -> Void,
                         isCancelled: @escaping @Sendable () -> Bool) async throws -> RedriveReport {
        let journal = try requireJournal()
        let last = Mutex<RedriveProgress?>(nil)
        let reported: @Sendable (RedriveProgress) -> Void = { p in
            last.withLock { $0 = p }
            progress(p)
        }
        let clock = self.clock
        let callGuard = BrokerCallGuard(isCancelled: isCancelled, now: clock.now, waiting: { began in
            let since = Self.timeOfDay.string(from: Date(timeIntervalSince1970: began))
            let waited = Int(clock.now() - began)
            try? journal.heartbeat(jobID, nowMillis: Int64(clock.now() * 1000))
            if var p = last.withLock({ $0 }) {
                p.waiting = "waiting for the broker since \(since) (\(waited) s)"
                progress(p)
            }
        })
        return try await BrokerCallGuard.$current.withValue(callGuard) {
            try await processGuarded(jobID: jobID, kind: kind, targetOverride: targetOverride, rate: rate, selected: selected,
                                     skipped: skipped, cancelledJob: cancelledJob, progress: reported, isCancelled: isCancelled)
        }
    }

    /// `HH:mm:ss` in local time, for "waiting since".
    static let timeOfDay: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        return f
    }()

    private func processGuarded(jobID: String, kind: RedriveRequest.Kind, targetOverride: String?, rate: Double?,
                                selected: Int, skipped: Int, cancelledJob: Bool,
                                progress: @escaping @Sendable (RedriveProgress) -> Void,
                                isCancelled: @escaping @Sendable () -> Bool) async throws -> RedriveReport {
        let journal = try requireJournal()
        var state = JobRun(jobID: jobID, kind: kind, targetOverride: targetOverride, started: clock.now(),
                           limiter: RateLimiter(ratePerSecond: rate), skipped: skipped)
        let counts = try journal.counts(jobID)
        state.movedBefore = counts[.done] ?? 0
        state.failedBefore = counts[.failed] ?? 0
        state.total = counts.values.reduce(0, +)

        var cancelled = cancelledJob
        do {
            // Intents first: a previous run may have produced them.
            try await resolveIntents(&state, dropMissing: cancelledJob)
            if !cancelledJob { cancelled = try await moveQueued(&state, progress: progress, isCancelled: isCancelled) }
        } catch is StoppedWhileWaiting {
            // Cancelled while the broker did not answer: what may have landed stays an intent, in doubt,
            // for the next start to resolve; nothing else is touched.
            cancelled = true
        }
        try journal.finish(jobID, cancelled: cancelled, nowMillis: nowMillis)
        let final = try journal.counts(jobID)
        var report = RedriveReport(jobID: jobID, selected: selected, moved: final[.done] ?? 0, skipped: skipped,
                                   failures: state.failures, failed: final[.failed] ?? 0, targets: state.targets,
                                   cancelled: cancelled, dryRun: false)
        report.inDoubt = final[.inFlight] ?? 0
        return report
    }

    /// Moves the job's queued messages batch by batch until none is left or the operator cancels;
    /// returns true when cancelled.
    private func moveQueued(_ state: inout JobRun, progress: @escaping @Sendable (RedriveProgress) -> Void,
                            isCancelled: @escaping @Sendable () -> Bool) async throws -> Bool {
        let journal = try requireJournal()
        let jobID = state.jobID
        do {
            while true {
                if isCancelled() { return true }
                let (granted, wait) = state.limiter.take(Self.maxBatch, now: clock.now())
                if granted == 0 {
                    await clock.sleep(min(wait, 0.25))
                    continue
                }
                let batch = try journal.queued(jobID, limit: state.singlesLeft > 0 ? 1 : granted)
                if batch.isEmpty { return false }
                if state.singlesLeft > 0 { state.singlesLeft -= 1 }
                do {
                    try await move(batch, &state)
                } catch BrokerError.writeRefused(let why) {
                    // The broker refused something in the batch for good (too large, not allowed,
                    // ...). Resolve what did land; then retry one message at a time, so that only
                    // the refused one fails and the rest still move.
                    let landed = try await resolveIntents(&state, dropMissing: false)
                    if batch.count > 1 {
                        state.singlesLeft = batch.count
                    } else if let item = batch.first, !landed.contains(item.redriveID) {
                        try journal.markFailed([(item.redriveID, "the broker refused it: \(why)")], nowMillis: nowMillis)
                        state.fail(item.redriveID, "the broker refused it: \(why)")
                    }
                } catch BrokerError.unavailable(let why) {
                    // The batch may or may not have landed: wait for the broker, then resolve
                    // like a restart would. Anything but a broker outage ends the run (the
                    // journal keeps the job for the next start).
                    try await waitAndResolve(BrokerError.unavailable(why), &state, progress: progress, isCancelled: isCancelled)
                }
                try journal.heartbeat(jobID, nowMillis: nowMillis)
                progress(state.progress(now: clock.now()))
            }
        }
    }

    /// Mutable bookkeeping of one run of a job.
    struct JobRun {
        var jobID: String
        var kind: RedriveRequest.Kind
        var targetOverride: String?
        var started: Double
        var limiter: RateLimiter
        var skipped: Int
        var total = 0
        var movedBefore = 0
        var failedBefore = 0
        var movedNow = 0
        var failedNow = 0
        var failures: [RedriveReport.Failure] = []
        var targets: [String: Int] = [:]
        var topicCache: [String: TopicInfo?] = [:]
        /// Messages still to move one at a time after a batch was refused.
        var singlesLeft = 0

        func progress(now: Double, waiting: String? = nil) -> RedriveProgress {
            let elapsed = max(0.001, now - started)
            let rate = Double(movedNow + failedNow) / elapsed
            let left = total - movedBefore - failedBefore - movedNow - failedNow
            return RedriveProgress(jobID: jobID, total: total, moved: movedBefore + movedNow,
                                   failed: failedBefore + failedNow, skipped: skipped, ratePerSecond: rate,
                                   etaSeconds: rate > 0 ? Double(max(0, left)) / rate : nil, waiting: waiting)
        }

        mutating func fail(_ id: String, _ reason: String) {
            failedNow += 1
            if failures.count < 200 { failures.append(.init(redriveID: id, reason: reason)) }
        }
    }

    /// Moves one batch of queued items: read, decide targets, write intents, produce, mark done.
    private func move(_ batch: [JournalItem], _ state: inout JobRun) async throws {
        let journal = try requireJournal()
        let records = try await fetchLetters(batch.map(\.source))
        var failures: [(redriveID: String, reason: String)] = []
        var planned: [(item: JournalItem, record: Record, topic: String, partition: Int32)] = []
        for item in batch {
            switch try await check(records[item.source], at: item.source, redriveID: item.redriveID, &state) {
            case .success(let destination):
                planned.append((item, destination.letter, destination.topic, destination.partition))
            case .failure(let refusal):
                failures.append((item.redriveID, refusal.reason))
            }
        }
        if !failures.isEmpty {
            try journal.markFailed(failures, nowMillis: nowMillis)
            for f in failures { state.fail(f.redriveID, f.reason) }
        }
        guard !planned.isEmpty else { return }

        // Intents carry each target partition's high watermark read *before* producing.
        var highs: [TopicPartition: Int64] = [:]
        for topic in Set(planned.map(\.topic)) {
            let info = try await log.watermarks(topic: topic)
            state.topicCache[topic] = info
            for p in info.partitions { highs[TopicPartition(topic, p.partition)] = p.high }
        }
        let intents = planned.map { p in
            RedriveJournal.Intent(redriveID: p.item.redriveID, topic: p.topic, partition: p.partition,
                                  searchFrom: highs[TopicPartition(p.topic, p.partition)] ?? 0)
        }
        let written = try journal.recordIntents(intents, jobID: state.jobID, nowMillis: nowMillis)
        // Only what this run still owns moves (a guard against any second owner).
        planned = planned.filter { written.contains($0.item.redriveID) }
        guard !planned.isEmpty else { return }
        let now = nowMillis
        let outgoing = planned.map { p in
            RedriveRules.outgoing(from: p.record, topic: p.topic, partition: p.partition, redriveID: p.item.redriveID,
                                  nowMillis: now, keepAllHeaders: state.kind == .replay)
        }
        guard let writer else { throw BrokerError.writeRefused("\(log.sourceDescription) is open read-only") }
        let positions = try await writer.produce(outgoing)
        guard positions.count == planned.count else {
            throw BrokerError.unavailable("the broker acknowledged \(positions.count) of \(planned.count) messages")
        }
        try journal.markDone(zip(planned, positions).map { ($0.item.redriveID, $1.offset) }, nowMillis: nowMillis)
        state.movedNow += planned.count
        for p in planned { state.targets[p.topic, default: 0] += 1 }
    }

    /// Waits with backoff while the broker fails, then resolves the job's intents.
    private func waitAndResolve(_ first: BrokerError, _ state: inout JobRun,
                                progress: @escaping @Sendable (RedriveProgress) -> Void,
                                isCancelled: @escaping @Sendable () -> Bool) async throws {
        var error: Error = first
        var delay = 0.5
        while true {
            progress(state.progress(now: clock.now(), waiting: "\(error), retrying in \(Int(delay.rounded(.up))) s"))
            var slept = 0.0
            while slept < delay {
                if isCancelled() { return } // intents stay; the next start resolves them
                await clock.sleep(0.1)
                slept += 0.1
            }
            try requireJournal().heartbeat(state.jobID, nowMillis: nowMillis)
            do {
                try await resolveIntents(&state, dropMissing: false)
                return
            } catch BrokerError.unavailable(let why) {
                error = BrokerError.unavailable(why)
                delay = min(10, delay * 2)
            }
        }
    }

    /// Looks for every intent's id in its target partition from its search offset: found → done,
    /// missing → queued again (or forgotten, for a cancelled job).
    @discardableResult
    private func resolveIntents(_ state: inout JobRun, dropMissing: Bool) async throws -> Set<String> {
        let journal = try requireJournal()
        let intents = try journal.intents(state.jobID)
        guard !intents.isEmpty else { return [] }
        var byTarget: [TopicPartition: [JournalItem]] = [:]
        for item in intents {
            guard let topic = item.targetTopic, let partition = item.targetPartition else { continue }
            byTarget[TopicPartition(topic, partition), default: []].append(item)
        }
        var found: [(redriveID: String, offset: Int64)] = []
        for (tp, items) in byTarget {
            var wanted = Set(items.map(\.redriveID))
            let from = items.compactMap(\.searchFrom).min() ?? 0
            let info: TopicInfo
            do { info = try await log.watermarks(topic: tp.topic) } catch BrokerError.unknownTopic {
                continue // the target is gone: nothing landed there that still counts; produce again decides
            }
            guard let target = info.partitions.first(where: { $0.partition == tp.partition }) else { continue }
            var reader = PartitionReader(log: log, topic: tp.topic, partition: tp.partition, from: max(from, target.low),
                                         to: target.high, batchSize: 1000)
            while !wanted.isEmpty, let records = try await reader.next() {
                for r in records {
                    if let id = RedriveRules.carriedRedriveID(r), wanted.remove(id) != nil { found.append((id, r.offset)) }
                }
            }
        }
        try journal.markDone(found, nowMillis: nowMillis)
        state.movedNow += found.count
        let landed = Set(found.map(\.redriveID))
        let missing = intents.map(\.redriveID).filter { !landed.contains($0) }
        if dropMissing { try journal.forget(missing) } else { try journal.requeue(missing, nowMillis: nowMillis) }
        for item in intents where landed.contains(item.redriveID) {
            if let t = item.targetTopic { state.targets[t, default: 0] += 1 }
        }
        return landed
    }

    /// Topic metadata, cached for the job (a missing topic is remembered as missing).
    private func topicInfo(_ topic: String, _ state: inout JobRun) async throws -> TopicInfo? {
        if let cached = state.topicCache[topic] { return cached }
        do {
            let info = try await log.watermarks(topic: topic)
            state.topicCache[topic] = info
            return info
        } catch BrokerError.unknownTopic {
            state.topicCache[topic] = .some(nil)
            return nil
        }
    }

    // MARK: - Checking letters

    /// Where a letter that passed ``check(_:at:redriveID:_:)`` goes.
    struct Destination: Equatable {
        /// The letter as read.
        var letter: Record
        /// Target topic.
        var topic: String
        /// Target partition.
        var partition: Int32
    }

    /// Why a letter cannot move, as the report and the journal say it.
    struct Refusal: Error, Equatable {
        var reason: String
    }

    /// The checks a selected letter passes before it moves, one copy for the dry run and the real run:
    /// it is still in its topic (`record` is what ``fetchLetters(_:)`` found there), it is the letter that
    /// was selected (the timestamp its redrive id carries), it names a target (the override, or for a
    /// redrive the original topic in its headers) and that target exists. Returns the target partition:
    /// for a redrive the original one when it goes back where it came from, for a replay the same number.
    func check(_ record: Record?, at position: RecordPosition, redriveID: String,
               _ state: inout JobRun) async throws -> Result<Destination, Refusal> {
        guard let record else {
            return .failure(Refusal(reason: "no longer in \(position.topic): retention deleted it"))
        }
        if let shown = RedriveRules.timestamp(inRedriveID: redriveID), shown != record.timestampMillis {
            return .failure(Refusal(reason: "another record is at this position now (was \(position.topic) deleted and recreated?)"))
        }
        let letter = DeadLetterParser.parse(record)
        let target: String?
        switch state.kind {
        case .redrive: target = RedriveRules.targetTopic(letter, override: state.targetOverride)
        case .replay: target = state.targetOverride
        }
        guard let target else {
            return .failure(Refusal(reason: "no original topic in its headers; choose a target"))
        }
        guard let info = try await topicInfo(target, &state), !info.partitions.isEmpty else {
            return .failure(Refusal(reason: "target topic '\(target)' does not exist"))
        }
        let count = Int32(info.partitions.count)
        switch state.kind {
        case .redrive:
            return .success(Destination(letter: record, topic: target, partition: RedriveRules.targetPartition(
                originalTopic: letter.originalTopic, originalPartition: letter.originalPartition, target: target,
                key: record.key, redriveID: redriveID, partitionCount: count)))
        case .replay:
            // A replay is a copy: the same partition number when the target has it.
            return .success(Destination(letter: record, topic: target, partition: RedriveRules.targetPartition(
                originalTopic: target, originalPartition: record.partition, target: target,
                key: record.key, redriveID: redriveID, partitionCount: count)))
        }
    }

    /// The records at `positions`; a position missing from the answer was deleted by retention. Throws
    /// `BrokerError.unavailable` when one is missing although still above its partition's low watermark:
    /// the read came back short (a slow broker), so wait and try again, never call the letter gone.
    func fetchLetters(_ positions: [RecordPosition]) async throws -> [RecordPosition: Record] {
        let records = try await fetch(positions)
        var lows: [TopicPartition: Int64] = [:]
        for position in positions where records[position] == nil {
            let tp = TopicPartition(position.topic, position.partition)
            if lows[tp] == nil {
                let info = try await log.watermarks(topic: position.topic)
                for p in info.partitions { lows[TopicPartition(position.topic, p.partition)] = p.low }
            }
            if position.offset >= (lows[tp] ?? 0) {
                throw BrokerError.unavailable("could not read \(position.topic) p\(position.partition)@\(position.offset) yet")
            }
        }
        return records
    }

    /// Reads the records at `positions`, walking each partition's runs of nearby positions.
    func fetch(_ positions: [RecordPosition]) async throws -> [RecordPosition: Record] {
        var out: [RecordPosition: Record] = [:]
        let byPartition = Dictionary(grouping: positions) { TopicPartition($0.topic, $0.partition) }
        for (tp, list) in byPartition {
            let offsets = list.map(\.offset).sorted()
            var i = 0
            while i < offsets.count {
                // A run of offsets close together is one fetch.
                var j = i
                while j + 1 < offsets.count, offsets[j + 1] - offsets[i] < Int64(Self.maxBatch) { j += 1 }
                let wanted = Set(offsets[i...j])
                // The whole run, in as many reads as the log needs (it may answer short, or skip markers).
                var reader = PartitionReader(log: log, topic: tp.topic, partition: tp.partition, from: offsets[i],
                                             to: offsets[j].addingSaturating(1), batchSize: Int(offsets[j] - offsets[i] + 1))
                while let records = try await reader.next() {
                    for r in records where wanted.contains(r.offset) {
                        out[RecordPosition(topic: r.topic, partition: r.partition, offset: r.offset)] = r
                    }
                }
                i = j + 1
            }
        }
        return out
    }

    // MARK: - Dry run

    private func dryRun(_ request: RedriveRequest) async throws -> RedriveReport {
        var state = JobRun(jobID: "dry-run", kind: request.kind, targetOverride: request.targetOverride,
                           started: clock.now(), limiter: RateLimiter(ratePerSecond: nil), skipped: 0)
        var alreadyDone = 0
        var moved = 0
        for chunk in stride(from: 0, to: request.positions.count, by: Self.maxBatch) {
            let positions = Array(request.positions[chunk..<min(request.positions.count, chunk + Self.maxBatch)])
            let records = try await fetchLetters(positions)
            var journalStates: [RecordPosition: RedriveItemState] = [:]
            if request.kind == .redrive, let journal {
                journalStates = try journal.states(topic: request.sourceTopic,
                                                   positions: positions.map { ($0.partition, $0.offset, request.timestamps[$0]) })
            }
            for position in positions {
                let id = RedriveRules.redriveID(position, timestampMillis: request.kind == .redrive ? request.timestamps[position] : nil)
                if let s = journalStates[position], s != .failed { alreadyDone += 1; continue }
                switch try await check(records[position], at: position, redriveID: id, &state) {
                case .success(let destination):
                    moved += 1
                    state.targets[destination.topic, default: 0] += 1
                case .failure(let refusal):
                    state.fail(id, refusal.reason)
                }
            }
        }
        return RedriveReport(jobID: "dry-run", selected: request.positions.count, moved: moved, skipped: alreadyDone,
                             failures: state.failures, failed: state.failedNow, targets: state.targets,
                             cancelled: false, dryRun: true)
    }
}
