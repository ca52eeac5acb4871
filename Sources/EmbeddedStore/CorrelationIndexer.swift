import EventModel
import Foundation
import Synchronization

/// Keeps a ``CorrelationIndex`` caught up with any `LogReader` (the embedded store, or Kafka into a local file).
///
/// Each call to ``catchUp(snapshot:)`` reads what is new in bulk (``LogReader/readRanges(_:body:)``: on Kafka
/// every partition fetched at once into one queue), extracts correlation IDs and event types with the views'
/// own rules on the reading thread, and hands batches to a writer thread, so reading and writing overlap.
/// At most ``maxRecordsPerTick`` records per call.
///
/// With ``recentFirst``, a partition seen for the first time is indexed from its newest records (the
/// sagas of the last minutes are there at once) and the older ones are filled in backwards afterwards,
/// a stretch per call, once the index has caught up with the head of the log.
public final class CorrelationIndexer: Sendable {
    /// The log indexed.
    public let log: any LogReader
    /// The index written.
    public let index: CorrelationIndex
    /// How correlation IDs and event types are found.
    public let rules: CorrelationRules
    /// Records read per call at most.
    public let maxRecordsPerTick: Int
    /// Records (over every partition) indexed from the head on a cold start before the rest is filled in
    /// backwards; nil indexes every partition oldest first.
    public let recentFirst: Int?

    /// What one call did.
    public struct Progress: Sendable, Hashable {
        /// Records read this call.
        public var read: Int
        /// Of those, records with a correlation ID.
        public var indexed: Int
        /// Records between the index's heads and the log's ends after this call (over every partition).
        public var remaining: Int64
        /// Older records not indexed yet (below the tails of partitions indexed newest first).
        public var backfill: Int64
        /// When `remaining` is not 0: the timestamp of the last record indexed on the partition furthest
        /// behind, so nothing older than it waits (nil when unknown or nothing waits).
        public var indexedUpToMillis: Int64?
        /// Offsets below the log's start (deleted by retention elsewhere) whose entries are still to drop.
        public var trimPending: Int64
        /// True when the call moved the index (read records, moved where a partition goes on, or trimmed).
        public var progressed: Bool
        /// True when there is more to do and this call got somewhere: call again at once.
        public var shouldContinue: Bool { progressed && (remaining > 0 || backfill > 0 || trimPending > 0) }
        /// True when the call read a busy log's worth of records (``CorrelationIndexer/busyReadRecords``): the
        /// next call should come soon rather than after a refresh interval, or the index trails the log by
        /// that interval and this call's time (a log written at 50,000 records a second).
        public var logIsBusy: Bool { read >= CorrelationIndexer.busyReadRecords }

        /// Creates a progress report.
        public init(read: Int, indexed: Int, remaining: Int64, backfill: Int64 = 0, indexedUpToMillis: Int64? = nil,
                    trimPending: Int64 = 0) {
            self.read = read
            self.indexed = indexed
            self.remaining = remaining
            self.backfill = backfill
            self.indexedUpToMillis = indexedUpToMillis
            self.trimPending = trimPending
            self.progressed = read > 0
        }

        public static func == (a: Progress, b: Progress) -> Bool {
            (a.read, a.indexed, a.remaining, a.backfill, a.indexedUpToMillis, a.trimPending)
                == (b.read, b.indexed, b.remaining, b.backfill, b.indexedUpToMillis, b.trimPending)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(read)
            hasher.combine(indexed)
            hasher.combine(remaining)
            hasher.combine(backfill)
        }
    }

    /// Records one call reads at and above which the log counts as busy (``Progress/logIsBusy``): 10,000 in
    /// a refresh interval is well past what the embedded demo writes, so it keeps one call a refresh.
    public static let busyReadRecords = 10_000

    /// Creates an indexer.
    public init(log: any LogReader, index: CorrelationIndex, rules: CorrelationRules,
                maxRecordsPerTick: Int = 500_000, recentFirst: Int? = nil) {
        self.log = log
        self.index = index
        self.rules = rules
        self.maxRecordsPerTick = max(1, maxRecordsPerTick)
        self.recentFirst = recentFirst.map { max(1, $0) }
    }

    /// Indexes up to ``maxRecordsPerTick`` new records: the head of every partition first, then, with what
    /// is left of the budget, a stretch of older records. Pass the latest snapshot to save asking for one.
    @discardableResult
    public func catchUp(snapshot given: BrokerSnapshot? = nil) async throws -> Progress {
        let snapshot: BrokerSnapshot
        if let given { snapshot = given } else { snapshot = try await log.snapshot() }
        var coverage = try await index.coverage()
        // A partition that ends before its head was deleted and recreated: what the index holds for it
        // points at records that are gone. Only figures a broker just gave count: a high of 0 may mean none
        // yet, and a partition whose leader is down shows its last known figures.
        let down = Set(snapshot.brokers?.down ?? [])
        let recreated = snapshot.topics.flatMap { t in
            t.partitions.compactMap { p -> TopicPartition? in
                let tp = TopicPartition(t.name, p.partition)
                return Self.answered(p, down: down) && p.high > 0 && p.high < (coverage[tp]?.head ?? 0) ? tp : nil
            }
        }
        if !recreated.isEmpty {
            try await index.forget(recreated)
            for tp in recreated { coverage[tp] = nil }
        }
        // Retention overtook a partition's head (the index was not running, or fell that far behind): its
        // entries go first, so that it goes on at the log's start as a partition still being followed.
        let overtaken = Self.retained(snapshot: snapshot, coverage: coverage, down: down).filter { tp, low in (coverage[tp]?.head ?? 0) < low }
        if !overtaken.isEmpty, index.writable {
            // Up to a million offsets a transaction: a gap retention opened holds no more entries than offsets.
            while try await index.trim(below: overtaken, budget: 1_000_000) > 0 {}
            coverage = try await index.coverage()
        }
        let plan = Self.plan(snapshot: snapshot, coverage: coverage, recentFirst: recentFirst, budget: maxRecordsPerTick)
        if !plan.starts.isEmpty { try await index.start(plan.starts) }

        var pass = PassResult()
        if !plan.forward.isEmpty {
            pass = try await read(plan.forward, backwards: false, budget: maxRecordsPerTick)
        }
        var backfill = plan.backfillRemaining
        let forwardDone = plan.forward.allSatisfy { r in (pass.heads[r.partition] ?? r.from) >= r.to }
        if forwardDone, pass.read < maxRecordsPerTick, !plan.backfill.isEmpty {
            let budget = maxRecordsPerTick - pass.read
            let ranges = Self.backfillRanges(plan.backfill, budget: budget)
            let back = try await read(ranges, backwards: true, budget: budget)
            backfill -= back.tailsMoved
            pass.read += back.read
            pass.indexed += back.indexed
            pass.progressed = pass.progressed || back.progressed
        }
        // Retention moved a log start past what the index covers: drop the entries of the deleted records
        // (the embedded store does this as it deletes; a Kafka broker deletes on its own). After the reads,
        // a budget a call: trimming never holds back the index's heads, and a log deleting as fast as it is
        // written (50,000 records a second) trims as it goes.
        var trimPending: Int64 = 0
        let retained = Self.retained(snapshot: snapshot, coverage: coverage, down: down)
        if !retained.isEmpty, index.writable {
            trimPending = try await index.trim(below: retained)
            pass.progressed = true
        }
        var remaining: Int64 = 0
        var upTo: Int64?
        for r in plan.forward {
            let head = max(r.from, pass.heads[r.partition] ?? r.from)
            guard head < r.to else { continue }
            remaining += r.to - head
            if let ms = pass.headMillis[r.partition] ?? coverage[r.partition]?.headMillis { upTo = min(upTo ?? .max, ms) }
        }
        var progress = Progress(read: pass.read, indexed: pass.indexed, remaining: remaining, backfill: max(0, backfill),
                                indexedUpToMillis: remaining > 0 ? upTo : nil, trimPending: trimPending)
        progress.progressed = pass.progressed
        return progress
    }

    /// Calls ``catchUp(snapshot:)`` until nothing is left, backwards fill included (for the command line
    /// and benchmarks). Returns the records read.
    @discardableResult
    public func catchUpFully() async throws -> Int {
        var total = 0
        while true {
            let p = try await catchUp()
            total += p.read
            if !p.shouldContinue { return total }
        }
    }

    // MARK: - Planning (pure)

    /// What one call reads.
    struct Plan: Equatable {
        /// Partitions seen for the first time, and where their coverage starts.
        var starts: [TopicPartition: Int64] = [:]
        /// From each partition's head to the snapshot's end.
        var forward: [ReadRange] = []
        /// Below each partition's tail, whole (cut to a budget by ``backfillRanges(_:budget:)``).
        var backfill: [ReadRange] = []
        /// Records below the tails.
        var backfillRemaining: Int64 = 0
    }

    /// Plans a call from a snapshot and the index's coverage. Pure.
    static func plan(snapshot: BrokerSnapshot, coverage: [TopicPartition: CorrelationIndex.Coverage],
                     recentFirst: Int?, budget: Int) -> Plan {
        var plan = Plan()
        let partitionCount = snapshot.topics.reduce(0) { $0 + $1.partitions.count }
        // The newest records taken per new partition: a share of `recentFirst`, at least 1,000.
        let window = recentFirst.map { Int64(max(1_000, $0 / max(1, partitionCount))) }
        for topic in snapshot.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partition)
                let low = max(0, p.low)
                let tail: Int64, head: Int64
                if let c = coverage[tp], c.head >= low {
                    tail = c.tail
                    head = c.head
                } else {
                    let start = window.map { max(low, p.high - $0) } ?? low
                    plan.starts[tp] = start
                    tail = start
                    head = start
                }
                let from = max(head, low)
                if from < p.high { plan.forward.append(ReadRange(tp, from: from, to: p.high)) }
                if tail > low {
                    plan.backfill.append(ReadRange(tp, from: low, to: tail))
                    plan.backfillRemaining += tail - low
                }
            }
        }
        return plan
    }

    /// The partitions whose log now starts above what the index covers, and their log starts. Only figures
    /// a broker just gave count (see ``catchUp(snapshot:)``). Pure.
    static func retained(snapshot: BrokerSnapshot, coverage: [TopicPartition: CorrelationIndex.Coverage], down: Set<Int32>) -> [TopicPartition: Int64] {
        var retained: [TopicPartition: Int64] = [:]
        for t in snapshot.topics {
            for p in t.partitions {
                let tp = TopicPartition(t.name, p.partition)
                if Self.answered(p, down: down), p.low > 0, p.low <= p.high, let c = coverage[tp], c.tail < p.low { retained[tp] = p.low }
            }
        }
        return retained
    }

    /// True when a broker just gave this partition's figures: its leader is up (a partition whose leader is
    /// down shows its last known figures; Kafka without a leader is stale too). Pure.
    static func answered(_ p: PartitionWatermarks, down: Set<Int32>) -> Bool {
        p.leader.map { !down.contains($0) } ?? (p.replicas == nil)
    }

    /// The newest stretch of each backfill range, the budget shared between them.
    static func backfillRanges(_ ranges: [ReadRange], budget: Int) -> [ReadRange] {
        guard !ranges.isEmpty else { return [] }
        let share = Int64(max(1, budget / ranges.count))
        return ranges.map { r in ReadRange(r.partition, from: max(r.from, r.to - share), to: r.to) }
    }

    // MARK: - Reading and writing

    /// What a pass did.
    struct PassResult {
        var read = 0
        var indexed = 0
        var heads: [TopicPartition: Int64] = [:]
        var headMillis: [TopicPartition: Int64] = [:]
        var tailsMoved: Int64 = 0
        var tailsDone: Set<TopicPartition> = []
        var progressed = false
    }

    /// One bulk read of `ranges`: records extracted on the reading thread, written on the writer's.
    /// Forward, each batch moves heads; backwards, a range moves its partition's tail when it is finished.
    private func read(_ ranges: [ReadRange], backwards: Bool, budget: Int) async throws -> PassResult {
        let writer = IndexWriter(index: index)
        let rules = self.rules
        let starts = Dictionary(ranges.map { ($0.partition, $0) }, uniquingKeysWith: { a, _ in a })
        let state = Mutex(PassResult())
        do {
            try await log.readRanges(ranges) { batch in
                try writer.check()
                let taken = state.withLock { s in Self.cut(batch, budget: budget - s.read) }
                var entries: [CorrelationIndex.Entry] = []
                entries.reserveCapacity(taken.records.count)
                var lastMillis: [TopicPartition: Int64] = [:]
                for r in taken.records {
                    lastMillis[TopicPartition(r.topic, r.partition)] = r.timestampMillis
                    let ex = rules.extract(r)
                    guard let id = ex.correlationID else { continue }
                    entries.append(CorrelationIndex.Entry(topic: r.topic, partition: r.partition, offset: r.offset,
                                                          correlationID: id, timestampMillis: r.timestampMillis, eventType: ex.eventType))
                }
                var moves: [TopicPartition: CorrelationIndex.Move] = [:]
                var tailsMoved: Int64 = 0
                if backwards {
                    // A range is done when the source says so, or when its last record came (the budget can
                    // run out exactly there, before the source's closing batch): each counted once.
                    var done = Set(taken.finished)
                    for (tp, next) in taken.next where next >= (starts[tp]?.to ?? .max) { done.insert(tp) }
                    let fresh = state.withLock { s in done.filter { s.tailsDone.insert($0).inserted } }
                    for tp in fresh {
                        guard let r = starts[tp] else { continue }
                        moves[tp] = CorrelationIndex.Move(tail: r.from)
                        tailsMoved += r.to - r.from
                    }
                } else {
                    for (tp, next) in taken.next { moves[tp] = CorrelationIndex.Move(head: next, headMillis: lastMillis[tp]) }
                }
                let left = state.withLock { s in
                    s.read += taken.records.count
                    s.indexed += entries.count
                    s.tailsMoved += tailsMoved
                    // Progress is records read or a position that moved: a partition whose log hands back
                    // nothing where it ends (a marker it cannot step over) must not look like work forever.
                    var moved = tailsMoved > 0
                    if !backwards {
                        for (tp, next) in taken.next {
                            let was = s.heads[tp] ?? starts[tp]?.from ?? next
                            if next > was { moved = true }
                            s.heads[tp] = max(was, next)
                        }
                        for (tp, ms) in lastMillis { s.headMillis[tp] = ms }
                    }
                    if !taken.records.isEmpty || moved { s.progressed = true }
                    return budget - s.read
                }
                if !entries.isEmpty || !moves.isEmpty { writer.submit(entries, moves: moves) }
                return left > 0 && !taken.cut
            }
        } catch {
            // What was read is written before the error goes up: the index keeps every batch handed over.
            try? await writer.finish()
            throw error
        }
        try await writer.finish()
        return state.withLock { $0 }
    }

    /// A batch cut to `budget` records. Each partition's records come in order, so a partition cut short
    /// goes on after its last record taken; one read whole goes on where the batch says. Pure.
    static func cut(_ batch: BulkBatch, budget: Int) -> (records: [Record], next: [TopicPartition: Int64], finished: [TopicPartition], cut: Bool) {
        guard batch.records.count > budget else { return (batch.records, batch.next, batch.finished, false) }
        let taken = Array(batch.records.prefix(max(0, budget)))
        let dropped = Set(batch.records.dropFirst(max(0, budget)).map { TopicPartition($0.topic, $0.partition) })
        var next: [TopicPartition: Int64] = [:]
        for (tp, n) in batch.next where !dropped.contains(tp) { next[tp] = n }
        for r in taken {
            let tp = TopicPartition(r.topic, r.partition)
            if dropped.contains(tp) { next[tp] = r.offset + 1 }
        }
        return (taken, next, batch.finished.filter { !dropped.contains($0) }, true)
    }
}

/// The index's writer thread for one pass: batches are written in order, while the reading thread extracts
/// the next ones. Batches that wait when the writer gets to them go in one transaction: a saga's records
/// come in different batches (each holds a stretch of a few partitions), and one transaction updates its
/// summary once for all of them. At most ``maxWaiting`` batches wait, so memory stays bounded.
final class IndexWriter: Sendable {
    private let index: CorrelationIndex
    private let queue = DispatchQueue(label: "evtop.index.writer")
    private let slots = DispatchSemaphore(value: IndexWriter.maxWaiting)
    private let waiting = Mutex<[(entries: [CorrelationIndex.Entry], moves: [TopicPartition: CorrelationIndex.Move])]>([])
    private let failure = Mutex<(any Error)?>(nil)

    /// Batches handed over and not written yet, at most.
    static let maxWaiting = 8

    init(index: CorrelationIndex) {
        self.index = index
    }

    /// Throws the error a write met, so the reader stops.
    func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Queues a batch; waits while ``maxWaiting`` are waiting already.
    func submit(_ entries: [CorrelationIndex.Entry], moves: [TopicPartition: CorrelationIndex.Move]) {
        slots.wait()
        waiting.withLock { $0.append((entries, moves)) }
        queue.async { [self] in
            // Everything waiting now is written here; the blocks queued for the batches taken find nothing.
            let taken = waiting.withLock { w in
                defer { w.removeAll(keepingCapacity: true) }
                return w
            }
            guard !taken.isEmpty else { return }
            defer { for _ in taken { slots.signal() } }
            guard failure.withLock({ $0 == nil }) else { return }
            var entries: [CorrelationIndex.Entry] = []
            entries.reserveCapacity(taken.reduce(0) { $0 + $1.entries.count })
            var moves: [TopicPartition: CorrelationIndex.Move] = [:]
            for batch in taken {
                entries += batch.entries
                moves.merge(batch.moves) { earlier, later in earlier.then(later) }
            }
            do { try index.applyNow(entries, moves: moves) } catch { failure.withLock { $0 = error } }
        }
    }

    /// Waits for every queued batch; throws the first error a write met.
    func finish() async throws {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in queue.async { done.resume() } }
        try check()
    }
}
