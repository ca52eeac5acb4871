import Foundation
import Logging
import Synchronization
import EventModel
import Dashboard

/// Which records the insights rules read next: per snapshot, the new records of each partition, newest
/// first when there are more than a partition's share, within a budget per tick, taking the partitions in
/// turn so that every one is read over a few ticks. Pure planning; ``InsightSampling`` does the reading.
struct InsightSamplePlan: Sendable {
    /// Records read per tick at most (the dashboard keeps it small: it runs whatever view shows).
    var perTick: Int
    /// Records of one partition per tick at most; older new records beyond it are skipped, not queued.
    var perPartition: Int
    /// Records read back from a partition's end the first time it is seen (a quiet topic is judged too).
    var backfill: Int
    /// Where each partition's reading goes on.
    private(set) var next: [TopicPartition: LogPosition] = [:]
    /// Records skipped because they came faster than the budget (the sample then says it is a sample).
    private(set) var skipped: Int64 = 0
    /// Where the last tick stopped in the partition order.
    private var turn = 0

    init(perTick: Int = 1_000, perPartition: Int = 250, backfill: Int = 100) {
        self.perTick = max(1, perTick)
        self.perPartition = max(1, perPartition)
        self.backfill = max(0, backfill)
    }

    /// The ranges to read for `snapshot`: partitions with positions (queues are not browsed for this),
    /// DLQ topics left out (their letters are read as letters).
    mutating func ranges(for snapshot: BrokerSnapshot, isDeadLetterTopic: (String) -> Bool) -> [ReadRange] {
        var all: [(TopicPartition, PartitionWatermarks)] = []
        for topic in snapshot.topics where !isDeadLetterTopic(topic.name) {
            for p in topic.partitions where p.hasPositions && p.high > p.low {
                all.append((TopicPartition(topic.name, p.partition), p))
            }
        }
        guard !all.isEmpty else { return [] }
        var ranges: [ReadRange] = []
        var budget = perTick
        let start = turn % all.count
        var visited = 0
        for i in 0..<all.count {
            guard budget > 0 else { break }
            visited += 1
            let (key, p) = all[(start + i) % all.count]
            var from = next[key] ?? max(p.low, p.high - Int64(backfill))
            from = max(from, p.low)  // retention deleted what was not read yet
            guard from < p.high else { continue }
            let share = Int64(min(perPartition, budget))
            if p.high - from > share {
                skipped += p.high - from - share
                from = p.high - share
            }
            ranges.append(ReadRange(key, from: from, to: p.high))
            next[key] = p.high  // what is not read now is not read later: the sample stays current
            budget -= Int(p.high - from)
        }
        turn = start + visited
        return ranges
    }
}

/// Reads the records a ``InsightSamplePlan`` names and turns them into what the rules need. Shared by the
/// dashboard's poller and `evtop doctor`.
final class InsightSampling: Sendable {
    private let plan: Mutex<InsightSamplePlan>
    let rules: CorrelationRules
    /// The plan's budget a tick while the insights view is on screen.
    let shownPerTick: Int
    /// The budget while it is not: the rules still judge a current sample (and say how many records it
    /// holds), a smaller one, so that a dashboard left on another view does not parse a thousand records a
    /// second for a view nobody looks at.
    let hiddenPerTick: Int
    private let shown = Atomic<Bool>(true)
    /// The dashboard's budget while the insights view is off screen.
    static let hiddenBudget = 100

    /// `hiddenPerTick`: the budget while ``setShown(_:)`` says the view is off screen (nil: the plan's, always).
    init(rules: CorrelationRules, plan: InsightSamplePlan = InsightSamplePlan(), hiddenPerTick: Int? = nil) {
        self.rules = rules
        self.plan = Mutex(plan)
        shownPerTick = plan.perTick
        self.hiddenPerTick = max(1, min(plan.perTick, hiddenPerTick ?? plan.perTick))
    }

    /// Whether the insights view is on screen now (the dashboard says so after each pass).
    func setShown(_ isShown: Bool) {
        shown.store(isShown, ordering: .relaxed)
    }

    /// Records skipped so far because they came faster than the budget.
    var skipped: Int64 { plan.withLock { $0.skipped } }

    /// The sample for `snapshot`: at most the plan's budget of records, read in bulk. A read that fails
    /// gives what was read before it (the next tick goes on from the snapshot's ends).
    func sample(_ reader: any LogReader, snapshot: BrokerSnapshot, isDeadLetterTopic: @escaping @Sendable (String) -> Bool) async -> [InsightRecord] {
        let perTick = shown.load(ordering: .relaxed) ? shownPerTick : hiddenPerTick
        let ranges = plan.withLock { plan in
            plan.perTick = perTick
            return plan.ranges(for: snapshot, isDeadLetterTopic: isDeadLetterTopic)
        }
        guard !ranges.isEmpty else { return [] }
        let rules = self.rules
        let out = Mutex<[InsightRecord]>([])
        let limit = ranges.reduce(0) { $0 + Int($1.to - $1.from) }
        do {
            try await reader.readRanges(ranges) { batch in
                let samples = batch.records.map { InsightRecord($0, rules: rules) }
                return out.withLock { all in
                    all += samples
                    return all.count < limit
                }
            }
        } catch {
            Logger(label: "evtop.insights").warning("sampling records failed: \(error)")
        }
        return out.withLock { $0 }
    }
}
