import EventModel
import Foundation
import Synchronization

/// Redrive from a dead-letter queue that is consumed destructively (RabbitMQ), exactly as far as a queue
/// allows (docs/redrive.md):
///
/// 1. the job records each selected letter's content fingerprint;
/// 2. the engine takes messages from the DLQ's head without acknowledging them, and recognises the selected
///    ones by fingerprint (the others are held and go back to their places at the end);
/// 3. intent in the journal → publish (mandatory, with `evtop-redrive-id`, the dead-letter headers removed)
///    → confirm → done in the journal → `basic.ack` on the DLQ.
///
/// A crash before the confirm is recorded leaves the entry in flight ("in doubt"): its letter went back to the
/// DLQ when the connection died, so the resumed job finds it and publishes it again with the same redrive id
/// (a consumer that drops repeated ids sees it once). A crash after the confirm is recorded and before the ack
/// is processed also leaves the letter in the DLQ: it is recognised and acknowledged without a second publish.
/// Nothing is acknowledged before its copy is confirmed, so nothing is lost.
public final class QueueRedriveEngine: Sendable {
    /// The journal's job kind.
    public static let kind = "queue-redrive"
    /// Letters per batch: one journal transaction each way and one wait for confirms.
    public static let maxBatch = 200

    let mover: any QueueMover
    let journal: RedriveJournal
    let sourceDescription: String
    let clock: RedriveClock
    let ownsJournal: Bool
    let pid: Int32
    let host: String

    /// Creates an engine over a queue source and its journal.
    public init(mover: any QueueMover, sourceDescription: String, journal: RedriveJournal, clock: RedriveClock = .system,
                ownsJournal: Bool = false) {
        self.mover = mover
        self.sourceDescription = sourceDescription
        self.journal = journal
        self.clock = clock
        self.ownsJournal = ownsJournal
        self.pid = getpid()
        self.host = ProcessInfo.processInfo.hostName
    }

    /// What an operator asked to move out of a DLQ.
    public struct Selection: Sendable {
        /// The DLQ.
        public var queue: String
        /// The selected letters as browsed, in queue order.
        public var letters: [Record]
        /// A queue to send every letter to instead of where it first died.
        public var targetQueue: String?
        /// Messages per second; nil: as fast as confirms come.
        public var ratePerSecond: Double?
        /// How the selection was made, for the audit trail.
        public var description: String
        /// Who asked.
        public var user: String

        /// Creates a selection.
        public init(queue: String, letters: [Record], targetQueue: String?, ratePerSecond: Double?, description: String, user: String) {
            self.queue = queue
            self.letters = letters
            self.targetQueue = targetQueue
            self.ratePerSecond = ratePerSecond
            self.description = description
            self.user = user
        }
    }

    // MARK: - Pure rules

    /// Where a letter goes: the override queue, else the queue it first died in (the oldest `x-death` entry),
    /// through the default exchange. Not back through the exchange it was first published to: that exchange
    /// would route a second copy to every other queue bound with that key, whose consumers already had it.
    /// Nil when it carries no `x-death`.
    public static func target(of letter: Record, override: String?) -> QueueTarget? {
        if let override, !override.isEmpty { return .queue(override) }
        let parsed = DeadLetterParser.parse(letter)
        // x-death lists the most recent death first.
        guard let queue = parsed.deaths.last?.queue, !queue.isEmpty else { return nil }
        return .queue(queue)
    }

    /// A letter's identity while it waits in a queue (see ``QueueFingerprint``).
    public static func fingerprint(_ record: Record) -> String { QueueFingerprint.of(record) }

    // MARK: - Running

    /// What a dry run finds: letters that would move, by target, and those that cannot, with why.
    public static func dryRun(_ selection: Selection) -> RedriveReport {
        var targets: [String: Int] = [:]
        var failures: [RedriveReport.Failure] = []
        for (i, letter) in selection.letters.enumerated() {
            if let t = target(of: letter, override: selection.targetQueue) {
                targets[t.description, default: 0] += 1
            } else {
                failures.append(.init(redriveID: "\(selection.queue)#\(i)", reason: noTarget))
            }
        }
        return RedriveReport(jobID: "dry-run", selected: selection.letters.count, moved: selection.letters.count - failures.count,
                             skipped: 0, failures: failures, failed: failures.count, targets: targets, cancelled: false, dryRun: true)
    }

    static let noTarget = "no x-death header says where it came from; choose a queue with --to"

    /// Runs a job to the end, or until `isCancelled` says stop (between batches).
    public func run(_ selection: Selection,
                    progress: @escaping @Sendable (RedriveProgress) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) async throws -> RedriveReport {
        let created = Int64(clock.now() * 1000)
        let jobID = RedriveEngine.newJobID(millis: created)
        let record = RedriveJobRecord(
            id: jobID, kind: Self.kind, source: sourceDescription, sourceTopic: selection.queue, selection: selection.description,
            targetOverride: selection.targetQueue, ratePerSecond: selection.ratePerSecond, user: selection.user, host: host,
            createdAtMillis: created, finishedAtMillis: nil, state: RedriveJobState.running.rawValue,
            selected: selection.letters.count, moved: 0, skipped: 0, failed: 0)
        guard let lock = JobLock.tryAcquire(journalPath: journal.path, jobID: jobID) else {
            throw JournalError.unavailable(journal.path, "cannot create the lock file of job \(jobID) next to it")
        }
        defer { withExtendedLifetime(lock) {} }
        let items = selection.letters.enumerated().map { ("\(jobID)/\($0.offset)", Self.fingerprint($0.element)) }
        try journal.createQueueJob(record, items: items, pid: pid)
        return try await process(jobID: jobID, queue: selection.queue, targetQueue: selection.targetQueue,
                                 rate: selection.ratePerSecond, progress: progress, isCancelled: isCancelled)
    }

    /// Finishes every queue job of this source whose owner is gone (see `JobLock`).
    public func resumeInterrupted(progress: @escaping @Sendable (RedriveProgress) -> Void = { _ in },
                                  isCancelled: @escaping @Sendable () -> Bool = { false }) async throws -> [RedriveReport] {
        var reports: [RedriveReport] = []
        for candidate in try journal.unfinishedJobs(source: ownsJournal ? nil : sourceDescription) where candidate.kind == Self.kind {
            guard let lock = JobLock.tryAcquire(journalPath: journal.path, jobID: candidate.id) else { continue }
            guard let job = try journal.adopt(candidate.id, pid: pid, host: host, nowMillis: Int64(clock.now() * 1000)) else { continue }
            let report = try await process(jobID: job.id, queue: job.sourceTopic, targetQueue: job.targetOverride,
                                           rate: job.ratePerSecond, progress: progress, isCancelled: isCancelled)
            withExtendedLifetime(lock) {}
            reports.append(report)
        }
        return reports
    }

    /// The job's letters still to find in the DLQ, by fingerprint, in the order a taken message claims them:
    /// one in doubt first (its id is reused), then one still queued, then one done whose ack is unproven (it is
    /// acknowledged, not sent again). That order never loses a letter when two are identical.
    struct Wanted {
        var inDoubt: [String: [String]] = [:]
        var queued: [String: [String]] = [:]
        var unacknowledged: [String: [String]] = [:]

        init(_ items: [QueueJobItem]) {
            for item in items {
                switch item.state {
                case .inFlight: inDoubt[item.fingerprint, default: []].append(item.redriveID)
                case .queued: queued[item.fingerprint, default: []].append(item.redriveID)
                case .done where !item.acknowledged: unacknowledged[item.fingerprint, default: []].append(item.redriveID)
                default: break
                }
            }
        }

        var isEmpty: Bool { inDoubt.isEmpty && queued.isEmpty && unacknowledged.isEmpty }

        enum Claim: Equatable { case publish(String, again: Bool), acknowledge(String), none }

        mutating func claim(_ fingerprint: String) -> Claim {
            func pop(_ map: inout [String: [String]]) -> String? {
                guard var ids = map[fingerprint], !ids.isEmpty else { return nil }
                let id = ids.removeFirst()
                map[fingerprint] = ids.isEmpty ? nil : ids
                return id
            }
            if let id = pop(&inDoubt) { return .publish(id, again: true) }
            if let id = pop(&queued) { return .publish(id, again: false) }
            if let id = pop(&unacknowledged) { return .acknowledge(id) }
            return .none
        }
    }

    /// Runs a job with every broker call through a ``BrokerCallGuard``: a cancel takes effect within a
    /// second even while librabbitmq waits out a timeout (what is in flight stays in doubt in the journal),
    /// and a call that takes long says "waiting for the broker since …".
    private func process(jobID: String, queue: String, targetQueue: String?, rate: Double?,
                         progress: @escaping @Sendable (RedriveProgress) -> Void,
                         isCancelled: @escaping @Sendable () -> Bool) async throws -> RedriveReport {
        let last = Mutex<RedriveProgress?>(nil)
        let reported: @Sendable (RedriveProgress) -> Void = { p in
            last.withLock { $0 = p }
            progress(p)
        }
        let clock = self.clock, journal = self.journal
        let callGuard = BrokerCallGuard(isCancelled: isCancelled, now: clock.now, waiting: { began in
            let since = RedriveEngine.timeOfDay.string(from: Date(timeIntervalSince1970: began))
            try? journal.heartbeat(jobID, nowMillis: Int64(clock.now() * 1000))
            if var p = last.withLock({ $0 }) {
                p.waiting = "waiting for the broker since \(since) (\(Int(clock.now() - began)) s)"
                progress(p)
            }
        })
        return try await BrokerCallGuard.$current.withValue(callGuard) {
            try await processGuarded(jobID: jobID, queue: queue, targetQueue: targetQueue, rate: rate,
                                     progress: reported, isCancelled: isCancelled)
        }
    }

    private func processGuarded(jobID: String, queue: String, targetQueue: String?, rate: Double?,
                                progress: @escaping @Sendable (RedriveProgress) -> Void,
                                isCancelled: @escaping @Sendable () -> Bool) async throws -> RedriveReport {
        let started = clock.now()
        let before = try journal.counts(jobID)
        let total = before.values.reduce(0, +)
        let movedBefore = before[.done] ?? 0
        var limiter = RateLimiter(ratePerSecond: rate)
        var movedNow = 0, failedNow = 0, sentAgain = 0
        var failures: [RedriveReport.Failure] = []
        var targets: [String: Int] = [:]
        func report(waiting: String? = nil) -> RedriveProgress {
            let elapsed = max(0.001, clock.now() - started)
            let r = Double(movedNow + failedNow) / elapsed
            let left = total - movedBefore - (before[.failed] ?? 0) - movedNow - failedNow
            return RedriveProgress(jobID: jobID, total: total, moved: movedBefore + movedNow, failed: (before[.failed] ?? 0) + failedNow,
                                   skipped: 0, ratePerSecond: r, etaSeconds: r > 0 ? Double(max(0, left)) / r : nil, waiting: waiting)
        }
        func fail(_ id: String, _ reason: String) throws {
            try journal.markFailed([(id, reason)], nowMillis: nowMillis)
            failedNow += 1
            if failures.count < 200 { failures.append(.init(redriveID: id, reason: reason)) }
        }

        var cancelled = false
        var walkedToTheEnd = false
        var walkedTwice = false
        var delay = 0.5
        // Each pass opens a session and walks the DLQ from its head; a broker failure ends the pass (the
        // server returns what the session held), and the next pass starts from the journal again.
        passes: while !cancelled && !walkedToTheEnd {
            var wanted = Wanted(try journal.queueItems(jobID))
            if wanted.isEmpty { break }
            let session: any QueueMoveSession
            do {
                let mover = self.mover
                session = try await BrokerCallGuard.guarded { try await mover.openMoveSession(queue: queue) }
            } catch is StoppedWhileWaiting {
                cancelled = true
                break
            } catch BrokerError.unavailable(let why) {
                progress(report(waiting: "\(why); retrying in \(Int(delay.rounded(.up))) s"))
                if await pause(delay, isCancelled) { cancelled = true; break }
                delay = min(10, delay * 2)
                continue
            }
            var sentAcks: [String] = []
            do {
                while !wanted.isEmpty {
                    if isCancelled() { cancelled = true; break }
                    let (granted, wait) = limiter.take(Self.maxBatch, now: clock.now())
                    if granted == 0 { await clock.sleep(min(wait, 0.25)); continue }
                    // Take a batch; the first answer proves the acks sent before it were processed.
                    var batch: [(message: TakenMessage, id: String, again: Bool)] = []
                    var acknowledgeOnly: [(tag: UInt64, id: String)] = []
                    var exhausted = false
                    while batch.count < granted {
                        guard let message = try await BrokerCallGuard.guarded({ try await session.take() }) else { exhausted = true; break }
                        if !sentAcks.isEmpty {
                            try journal.markQueueAcknowledged(sentAcks, nowMillis: nowMillis)
                            sentAcks = []
                        }
                        switch wanted.claim(Self.fingerprint(message.record)) {
                        case .publish(let id, let again): batch.append((message, id, again))
                        case .acknowledge(let id): acknowledgeOnly.append((message.tag, id))
                        case .none: await session.release(message.tag)
                        }
                        if wanted.isEmpty { break }
                    }
                    // Decide targets; a letter that has none stays in the DLQ (held, returned at the end).
                    var publishes: [QueuePublish] = []
                    var planned: [(id: String, again: Bool, target: QueueTarget)] = []
                    let now = nowMillis
                    for (message, id, again) in batch {
                        guard let target = Self.target(of: message.record, override: targetQueue) else {
                            try fail(id, Self.noTarget)
                            await session.release(message.tag)
                            continue
                        }
                        publishes.append(Self.publish(message, target: target, redriveID: id, nowMillis: now))
                        planned.append((id, again, target))
                    }
                    let recorded = try journal.recordQueueIntents(planned.map { ($0.id, $0.target.description) }, jobID: jobID, nowMillis: now)
                    var confirmedIDs: [String] = []
                    var acknowledge: [UInt64] = acknowledgeOnly.map(\.tag)
                    var acknowledgedIDs = acknowledgeOnly.map(\.id)
                    if !publishes.isEmpty {
                        let kept = zip(publishes, planned).filter { recorded.contains($0.1.id) }
                        let outgoing = kept.map(\.0)
                        let outcomes = try await BrokerCallGuard.guarded { try await session.publish(outgoing) }
                        for ((p, plan), outcome) in zip(kept, outcomes) {
                            switch outcome {
                            case .confirmed:
                                confirmedIDs.append(plan.id)
                                acknowledge.append(p.tag)
                                acknowledgedIDs.append(plan.id)
                                targets[plan.target.description, default: 0] += 1
                                if plan.again { sentAgain += 1 }
                            case .refused(let why):
                                try fail(plan.id, why)
                                await session.release(p.tag)
                            }
                        }
                    }
                    try journal.markQueueConfirmed(confirmedIDs, nowMillis: nowMillis)
                    movedNow += confirmedIDs.count
                    let tags = acknowledge
                    try await BrokerCallGuard.guarded { try await session.acknowledge(tags) }
                    sentAcks += acknowledgedIDs
                    try journal.heartbeat(jobID, nowMillis: nowMillis)
                    progress(report())
                    delay = 0.5
                    if exhausted { walkedToTheEnd = true; break }
                }
                if !cancelled && wanted.isEmpty { walkedToTheEnd = true }
                await session.close()
            } catch is StoppedWhileWaiting {
                // Cancelled while a call blocked: the job ends now; in-flight entries stay in doubt, and the
                // session closes once that call returns (the server then takes back what it held).
                cancelled = true
                Task.detached { await session.close() }
                break passes
            } catch BrokerError.unavailable(let why) {
                // In flight entries stay in doubt; their letters go back to the DLQ with the connection.
                await session.close()
                progress(report(waiting: "\(why); retrying in \(Int(delay.rounded(.up))) s"))
                if await pause(delay, isCancelled) { cancelled = true; break passes }
                delay = min(10, delay * 2)
                continue passes
            } catch {
                await session.close()
                throw error
            }
            // A session closed normally: its acks reached the server before the close.
            if !sentAcks.isEmpty { try journal.markQueueAcknowledged(sentAcks, nowMillis: nowMillis) }
            // Letters the walk did not find may only be away: held unacknowledged by a connection of an
            // evtop that died or was cancelled a moment ago, which the server has not dropped yet. Only a
            // second walk, after a pause, that does not find them either settles them as gone.
            if try walkedToTheEnd && !cancelled && !walkedTwice && !Wanted(journal.queueItems(jobID)).isEmpty {
                walkedTwice = true
                walkedToTheEnd = false
                progress(report(waiting: "looking again in \(Int(Self.settleSeconds)) s for letters another connection may still hold"))
                if await pause(Self.settleSeconds, isCancelled) { cancelled = true; break passes }
            }
        }
        if walkedToTheEnd && !cancelled { try journal.resolveUnfound(jobID, nowMillis: nowMillis) }
        try journal.finish(jobID, cancelled: cancelled, nowMillis: nowMillis)
        let final = try journal.counts(jobID)
        var result = RedriveReport(jobID: jobID, selected: total, moved: final[.done] ?? 0, skipped: 0, failures: failures,
                                   failed: final[.failed] ?? 0, targets: targets, cancelled: cancelled, dryRun: false)
        result.inDoubt = final[.inFlight] ?? 0
        result.sentAgainAfterDoubt = sentAgain
        return result
    }

    var nowMillis: Int64 { Int64(clock.now() * 1000) }

    /// The pause before the walk that settles letters not found as gone: a server drops a dead client's
    /// connection (and puts back what it held) as soon as it sees the socket close.
    static let settleSeconds = 5.0

    /// Sleeps `seconds` in slices; true when cancelled meanwhile.
    private func pause(_ seconds: Double, _ isCancelled: @Sendable () -> Bool) async -> Bool {
        var slept = 0.0
        while slept < seconds {
            if isCancelled() { return true }
            await clock.sleep(0.1)
            slept += 0.1
        }
        return isCancelled()
    }

    /// The publish of a letter: its dead-letter headers (`x-death`, `x-first-death-*`, `x-last-death-*`,
    /// earlier `evtop-*`) removed, evtop's redrive headers added.
    static func publish(_ message: TakenMessage, target: QueueTarget, redriveID: String, nowMillis: Int64) -> QueuePublish {
        typealias E = DeadLetterHeaderNames.Evtop
        let removing = Set(message.record.headers.map(\.name).filter { !$0.hasPrefix("amqp.") && RedriveRules.isDeadLetterHeader($0) })
        return QueuePublish(tag: message.tag, target: target, removing: removing, adding: [
            RecordHeader(E.redriveID, redriveID),
            RecordHeader(E.redrivenFrom, message.record.topic),
            RecordHeader(E.redrivenAt, String(nowMillis)),
        ])
    }
}
