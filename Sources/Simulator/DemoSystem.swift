import Foundation
import EventModel

/// The simulated order-fulfillment system behind `evtop demo`.
///
/// Four services run as consumer groups over any `DemoLog`, driven by simulated time:
/// each `advance(to:)` does the work due since the previous call in steps of 100 ms, with one
/// produce call per topic per step. Everything (ids, traffic, outcomes, poison) follows from the
/// seed and the times passed in, so two runs with the same seed and times write the same records.
///
/// Flow (topic in brackets):
/// - order-service places OrderPlaced [orders]; cancels with OrderCancelled [orders] on
///   PaymentDeclined or PaymentRefunded; completes on OrderShipped.
/// - payment-service: OrderPlaced → PaymentAuthorized | PaymentDeclined [payments];
///   OutOfStock | InventoryReleased → PaymentRefunded [payments].
/// - inventory-service: PaymentAuthorized → InventoryReserved | OutOfStock [inventory];
///   ShipmentFailed → InventoryReleased [inventory]. Stalls now and then (stops processing and
///   committing, keeps heartbeating).
/// - shipping-service: InventoryReserved → OrderShipped | ShipmentFailed [shipments]. Slower than
///   peak traffic, so its lag grows in bursts and recovers in lulls.
/// Poison OrderPlaced / PaymentAuthorized fail in their consumer, are retried 3 times and then
/// published to `orders.DLT` / `payments.DLT` with Spring Kafka's `kafka_dlt-*` headers.
/// The design faults of `config.faults` (`DemoFault`: duplicate records, command-named events, two
/// live schema versions, fat events) are written by `DemoRules`, with `DemoFaultPlan`'s schedules.
///
/// The parts, one job each: `DemoSchedule` (simulated time, traffic, capacities, stalls),
/// `ConsumerRuntime` (assignment, positions, retries, commits), `DemoService` (who handles what:
/// the one routing table) and `DemoRules` (what each service publishes), `DemoEventCodec` (records
/// in and out) and `DemoTracer` (spans). This actor drives them over the log, one step at a time.
public actor DemoSystem: DemoDriver {
    /// The configuration the system was created with.
    public nonisolated let config: DemoConfig
    let tuning: DemoTuning

    private let log: any DemoLog
    private let schedule: DemoSchedule
    private var runtime: ConsumerRuntime
    private var rules: DemoRules
    private var tracer: DemoTracer
    private var knownTopics: Set<String> = []
    private var clock = DemoClock()
    private var stepIndex = 0
    /// True once `setUp()` has run.
    public private(set) var isSetUp = false
    private var advancing = false
    private var counters = DemoStats()

    /// Creates the system; nothing is written until `setUp()`.
    public init(log: any DemoLog, config: DemoConfig) {
        self.init(log: log, config: config, tuning: .standard)
    }

    init(log: any DemoLog, config: DemoConfig, tuning: DemoTuning) {
        self.log = log
        self.config = config
        self.tuning = tuning
        self.schedule = DemoSchedule(config: config, tuning: tuning)
        self.runtime = ConsumerRuntime(tuning: tuning)
        self.rules = DemoRules(config: config, tuning: tuning)
        self.tracer = DemoTracer(seed: config.seed)
    }

    /// Sends the services' OpenTelemetry spans (producer and consumer, see `DemoSpans`) to `sink`, once per step.
    public func setSpanSink(_ sink: DemoSpanSink?) {
        tracer.sink = sink
    }

    /// Counters of what the demo has done so far.
    public var stats: DemoStats { counters }

    /// The OrderSaga definition (steps, completion/failure events, compensations, terminal
    /// events, timeout) for the saga view.
    public static let orderSagaYAML: String = OrderSaga.yaml

    // MARK: Driving

    /// Creates the demo topics (existing topics keep their partitions), assigns partitions to
    /// members and resumes each group from its committed offsets (earliest when none).
    public func setUp() async throws {
        for topic in DemoTopics.layout {
            try await log.createTopic(topic.name, partitions: topic.partitions)
        }
        let snapshot = try await log.snapshot()
        knownTopics = Set(snapshot.topics.map(\.name))
        runtime.assign(snapshot, services: DemoService.all)
        isSetUp = true
    }

    /// Does all the work due between the previous call and `now`, in 100 ms steps. The first
    /// call only fixes the origin of simulated time. After a pause longer than 5 s, the older
    /// part is skipped (counted in `stats.skippedSeconds`), so one call's work stays bounded.
    public func advance(to now: Date) async throws {
        guard isSetUp else { throw DemoError.notSetUp }
        guard !advancing else { throw DemoError.concurrentAdvance }
        advancing = true
        defer { advancing = false }

        let nowMillis = DemoClock.millis(now)
        guard let origin = clock.begin(at: nowMillis, schedule: schedule, stats: &counters) else { return }
        while clock.lastMillis < nowMillis {
            let next = schedule.stepEnd(from: clock.lastMillis, now: nowMillis)
            try await step(from: clock.lastMillis, to: next, origin: origin)
            clock.stepped(to: next, stats: &counters)
        }
    }

    // MARK: One step

    /// Consumes what earlier steps produced, places new orders, produces everything once per topic
    /// (so each hop of a saga takes at least one step), then commits (at-least-once) and heartbeats.
    /// A failed step is redone from the committed offsets, as a restarted consumer would.
    private func step(from: Int64, to: Int64, origin: Int64) async throws {
        stepIndex += 1
        let dt = Double(to - from) / 1000
        let t = Double(to - origin) / 1000
        do {
            var batches = try await consumeAll(atSeconds: t, dt: dt, now: to)
            let placed = rules.placeOrders(from: from, to: to, expected: schedule.orderRate(atSeconds: t) * dt, stats: &counters)
            tracer.published(placed, by: DemoGroups.orderService)
            if !placed.isEmpty { batches[DemoTopics.orders] = placed + (batches[DemoTopics.orders] ?? []) }
            try await produce(batches)
            tracer.flush()
            try await commitAndHeartbeat(now: to)
        } catch {
            tracer.discard()
            runtime.rewindToCommitted()
            throw error
        }
    }

    /// Every service's members read their partitions within the group's budget; returns what they publish, by topic.
    private func consumeAll(atSeconds t: Double, dt: Double, now: Int64) async throws -> [String: [OutgoingRecord]] {
        var outputs: [String: [OutgoingRecord]] = [:]
        for service in DemoService.all {
            let group = service.group
            var budget = schedule.budget(carried: runtime.carriedBudget(group), group: group, atSeconds: t, dt: dt)
            let members = runtime.members(of: group)
            for member in members where !schedule.isStalled(group: group, memberIndex: member.index,
                                                             memberCount: members.count, atSeconds: t) {
                for tp in runtime.readingOrder(member, step: stepIndex) {
                    try await consume(tp, group: group, budget: &budget, now: now, outputs: &outputs)
                }
            }
            runtime.carry(budget, for: group)
        }
        return outputs
    }

    /// One group reads one partition from its position while its budget lasts, stopping at a record
    /// that is backing off after a failure; a record out of retries goes to the topic's DLT.
    private func consume(_ tp: TopicPartition, group: String, budget: inout Double, now: Int64,
                         outputs: inout [String: [OutgoingRecord]]) async throws {
        var reader = PartitionReader(log: log, topic: tp.topic, partition: tp.partition,
                                     from: runtime.position(group, tp), batchSize: tuning.fetchMax)
        var position = reader.position
        defer { runtime.setPosition(position, group, tp) }
        fetching: while budget >= 1 {
            let limit = min(tuning.fetchMax, Int(budget))
            guard let records = try await reader.next(maxRecords: limit) else { break }
            for record in records {
                guard runtime.mayAttempt(record, group: group, tp, now: now) else {
                    position = record.offset
                    break fetching
                }
                let outcome = rules.process(record, group: group, at: now, stats: &counters)
                tracer.processed(record, by: group, outcome: outcome, now: now)
                switch outcome {
                case .ignored:
                    break
                case .handled(let produced):
                    for out in produced { outputs[out.topic, default: []].append(out) }
                case .failed(let failure):
                    guard runtime.failed(record, group: group, tp, now: now, stats: &counters) == .giveUp else {
                        position = record.offset
                        break fetching
                    }
                    let dlt = record.topic + ".DLT"
                    if knownTopics.contains(dlt) {
                        outputs[dlt, default: []].append(SpringDLTHeaders.deadLetter(
                            of: record, to: dlt, group: group, failure: failure, timestampMillis: now))
                    }
                }
                runtime.settled(group, tp)
                budget -= 1
                counters.eventsConsumed += 1
            }
            position = reader.position
            if records.count < limit { break }  // caught up: no need to ask again this step
        }
    }

    /// One produce call per topic, in layout order.
    private func produce(_ batches: [String: [OutgoingRecord]]) async throws {
        for topic in DemoTopics.layout {
            guard let batch = batches[topic.name], !batch.isEmpty else { continue }
            try await log.produce(batch)
            if topic.name.hasSuffix(".DLT") {
                counters.eventsProduced += batch.count
                counters.deadLettered += batch.count
                continue
            }
            counters.countPublished(batch)
        }
    }

    /// Commits each member's new positions, and heartbeats (an empty commit) when one is due.
    private func commitAndHeartbeat(now: Int64) async throws {
        for member in runtime.members {
            let changed = runtime.uncommitted(member)
            if !changed.isEmpty {
                try await log.commit(group: member.group, member: member.id, offsets: changed)
                runtime.didCommit(changed, group: member.group)
            }
            if runtime.isHeartbeatDue(member, now: now) {
                try await log.commit(group: member.group, member: member.id, offsets: [:])
                runtime.didHeartbeat(member, now: now)
            }
        }
    }
}
