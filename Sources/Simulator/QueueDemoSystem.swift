import Foundation
import EventModel

/// The simulated order-fulfillment system on a broker of exchanges and queues (RabbitMQ), beside
/// `DemoSystem` (logs with consumer groups) and sharing its parts: the same services and routing table
/// (`DemoService`), business rules (`DemoRules`), events (`DemoEventCodec`), traffic, capacities and
/// episodes (`DemoSchedule`), retries and budgets (`ConsumerRuntime`) and spans (`DemoTracer`).
/// The shape on the broker is `QueueDemoLayout`.
///
/// Each service member is a consumer of its service's queue with manual acknowledgements and a prefetch
/// (`prefetch`). In each 100 ms step every member processes, within its service's budget, what the
/// broker delivered to it; what the services publish in reply (and the new orders) goes out in one
/// confirmed batch; only then are the handled messages acknowledged (at-least-once). A failing (poison)
/// message stays unacknowledged while its member goes on with the others, and is retried after the
/// back-off; out of retries it is rejected without requeue, so RabbitMQ dead-letters it and writes its `x-death`.
///
/// Episodes, as on a log but longer (see `standardTuning`): `shipping-service` is slower than traffic for
/// a phase (its backlog grows: WARN), and `inventory-service` has episodes. An episode where the whole group hangs keeps its consumers attached
/// without acknowledging (STALL); in the other kind, where a log demo hangs one member, a queue would not
/// show it (the other member takes its share), so here the service is down: its consumers close, their
/// unacknowledged messages go back to the queue, and no consumer is attached until it ends (STOP).
public actor QueueDemoSystem: DemoDriver {
    /// The configuration the system was created with.
    public nonisolated let config: DemoConfig
    let tuning: DemoTuning
    /// Unacknowledged deliveries per consumer (Spring AMQP's default).
    let prefetch: Int

    private let broker: any QueueDemoBroker
    private let schedule: DemoSchedule
    private var runtime: ConsumerRuntime
    private var rules: DemoRules
    private var tracer: DemoTracer
    private var members: [Member] = []
    private var clock = DemoClock()
    private var advancing = false
    private var counters = DemoStats()
    /// True once `setUp()` has run.
    public private(set) var isSetUp = false

    /// One member of a service: its consumer (nil while the service is down) and what it was delivered
    /// and has not settled yet, in delivery order.
    struct Member: Sendable {
        let service: DemoService
        let index: Int
        var consumer: (any QueueDemoConsumer)?
        var held: [TakenMessage] = []
        var tag: String { "\(service.group)-\(index + 1)" }
        /// Where a held message's retry state is kept in the runtime (which keeps one failing record per
        /// partition): a "partition" of its own, so that several can wait for their retries at once.
        func slot(of message: TakenMessage) -> TopicPartition { TopicPartition("\(tag)#\(message.tag)", 0) }
    }

    /// Creates the system; nothing is declared until `setUp()`.
    public init(broker: any QueueDemoBroker, config: DemoConfig) {
        self.init(broker: broker, config: config, tuning: Self.standardTuning)
    }

    /// The log demo's tuning with longer episodes, one at a time. The management API refreshes a queue's
    /// figures every 5 s by default, so the lag tracker's window of 10 progress samples spans about 50 s,
    /// and STALL or STOP shows once a group has been idle for longer than that: inventory-service's
    /// episodes last 75 s (from 30 s, every 180 s). WARN needs the backlog to grow at every sample of that
    /// window: shipping-service's carrier nearly stops for 80 s (from 110 s, every 180 s: between the
    /// inventory episodes, which would starve it), below the quietest traffic so that lulls do not undo
    /// the growth, and is faster the rest of the time so that it catches up.
    static let standardTuning: DemoTuning = {
        var tuning = DemoTuning.standard
        tuning.stallFirstAtSeconds = 30
        tuning.stallDurationSeconds = 75
        tuning.stallPeriodSeconds = 180
        tuning.slowPhaseStartSeconds = 110
        tuning.slowPhaseDurationSeconds = 80
        tuning.slowPhasePeriodSeconds = 180
        tuning.slowPhaseFactor = 0.05
        tuning.slowCapacityFactor = 2.5
        return tuning
    }()

    init(broker: any QueueDemoBroker, config: DemoConfig, tuning: DemoTuning, prefetch: Int = 250) {
        self.broker = broker
        self.config = config
        self.tuning = tuning
        self.prefetch = prefetch
        self.schedule = DemoSchedule(config: config, tuning: tuning)
        self.runtime = ConsumerRuntime(tuning: tuning)
        // The injected faults are the log demo's (a duplicate shows as two offsets of one partition,
        // which a queue does not have): the RabbitMQ demo keeps its messages as they were.
        self.rules = DemoRules(config: config, tuning: tuning, faults: [])
        self.tracer = DemoTracer(seed: config.seed)
        self.tracer.system = "rabbitmq"
    }

    /// Sends the services' OpenTelemetry spans to `sink`, once per step.
    public func setSpanSink(_ sink: DemoSpanSink?) {
        tracer.sink = sink
    }

    /// Counters of what the demo has done so far (`deadLettered`: messages rejected to the dead-letter exchange).
    public var stats: DemoStats { counters }

    // MARK: Driving

    /// Declares the exchanges, queues and bindings of `QueueDemoLayout` (existing ones with the same
    /// settings are kept) and attaches every member's consumer.
    public func setUp() async throws {
        for exchange in QueueDemoLayout.exchanges {
            try await broker.declareExchange(exchange.name, kind: exchange.kind)
        }
        for queue in QueueDemoLayout.queues {
            try await broker.declareQueue(queue.name, arguments: queue.arguments)
        }
        for b in QueueDemoLayout.bindings {
            try await broker.bind(queue: b.queue, exchange: b.exchange, routingKey: b.routingKey)
        }
        members = DemoService.all.flatMap { service in (0..<service.members).map { Member(service: service, index: $0) } }
        for i in members.indices {
            members[i].consumer = try await broker.consume(queue: members[i].service.group, consumerTag: members[i].tag, prefetch: prefetch)
        }
        isSetUp = true
    }

    /// Does all the work due between the previous call and `now`, in 100 ms steps (see `DemoSystem.advance`).
    /// A failed step ends the run: what it took stays unacknowledged, and goes back to its queue when the
    /// consumers close.
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

    /// Detaches every consumer (the end of a run): what they hold goes back to the queues.
    public func finish() async {
        for i in members.indices {
            await members[i].consumer?.close()
            members[i].consumer = nil
        }
    }

    // MARK: One step

    /// What one step settles per member: tags to acknowledge and to reject.
    struct Settlement {
        var acks: [Int: [UInt64]] = [:]
        var rejects: [Int: [UInt64]] = [:]
    }

    private func step(from: Int64, to: Int64, origin: Int64) async throws {
        let dt = Double(to - from) / 1000
        let t = Double(to - origin) / 1000
        do {
            try await applyEpisodes(atSeconds: t)
            var settlement = Settlement()
            var outputs: [OutgoingRecord] = []
            for service in DemoService.all {
                var budget = schedule.budget(carried: runtime.carriedBudget(service.group), group: service.group, atSeconds: t, dt: dt)
                for i in members.indices where members[i].service.group == service.group {
                    // In an episode (hang or outage) no member of the service processes anything. A hung
                    // member's client library still receives (up to its prefetch) and answers heartbeats,
                    // so the broker keeps it connected: it stays attached without acknowledging.
                    guard schedule.stallEpisode(group: service.group, memberCount: service.members, atSeconds: t) == nil else {
                        try await receive(member: i)
                        continue
                    }
                    try await consume(member: i, budget: &budget, now: to, outputs: &outputs, settlement: &settlement)
                }
                runtime.carry(budget, for: service.group)
            }
            let placed = rules.placeOrders(from: from, to: to, expected: schedule.orderRate(atSeconds: t) * dt, stats: &counters)
            tracer.published(placed, by: DemoGroups.orderService)
            let batch = placed + outputs
            try await broker.publish(batch.map(QueueDemoLayout.message))
            counters.countPublished(batch)
            tracer.flush()
            try await settle(settlement)
        } catch {
            tracer.discard()
            throw error
        }
    }

    /// True when `episode` is an outage (the service's consumers are closed) rather than a hang.
    static func isOutage(_ episode: StallEpisode?) -> Bool {
        guard let episode, case .oneMember = episode.scope else { return false }
        return true
    }

    /// Closes the consumers of a service in an outage, and attaches them again once it is over.
    private func applyEpisodes(atSeconds t: Double) async throws {
        for i in members.indices {
            let service = members[i].service
            let down = Self.isOutage(schedule.stallEpisode(group: service.group, memberCount: service.members, atSeconds: t))
            if down, let consumer = members[i].consumer {
                await consumer.close()
                members[i].consumer = nil
                for message in members[i].held { runtime.settled(service.group, members[i].slot(of: message)) }
                members[i].held = []  // closing returned them to the queue
            } else if !down, members[i].consumer == nil {
                members[i].consumer = try await broker.consume(queue: service.group, consumerTag: members[i].tag, prefetch: prefetch)
            }
        }
    }

    /// One member processes what was delivered to it, in order, while the budget lasts. A message that
    /// failed stays held (unacknowledged) until its back-off is over, while the member goes on with the
    /// others, as a consumer with several workers would; out of retries, it is to be rejected.
    private func consume(member i: Int, budget: inout Double, now: Int64, outputs: inout [OutgoingRecord],
                         settlement: inout Settlement) async throws {
        try await receive(member: i)
        let group = members[i].service.group
        var kept: [TakenMessage] = []
        for message in members[i].held {
            let slot = members[i].slot(of: message)
            guard budget >= 1, runtime.mayAttempt(message.record, group: group, slot, now: now) else {
                kept.append(message)
                continue
            }
            let outcome = rules.process(message.record, group: group, at: now, stats: &counters)
            tracer.processed(message.record, by: group, outcome: outcome, now: now)
            switch outcome {
            case .ignored:
                settlement.acks[i, default: []].append(message.tag)
            case .handled(let produced):
                outputs += produced
                settlement.acks[i, default: []].append(message.tag)
            case .failed:
                guard runtime.failed(message.record, group: group, slot, now: now, stats: &counters) == .giveUp else {
                    kept.append(message)
                    continue
                }
                settlement.rejects[i, default: []].append(message.tag)
            }
            runtime.settled(group, slot)
            budget -= 1
            counters.eventsConsumed += 1
        }
        members[i].held = kept
    }

    /// Adds what the broker delivered to the member to what it holds (at most its prefetch): reading also
    /// answers the broker's heartbeats.
    private func receive(member i: Int) async throws {
        guard let consumer = members[i].consumer else { return }
        members[i].held += try await consumer.take(max: max(0, prefetch - members[i].held.count))
    }

    /// Acknowledges what was handled and rejects what ran out of retries, once the replies are confirmed.
    private func settle(_ settlement: Settlement) async throws {
        for (i, tags) in settlement.acks.sorted(by: { $0.key < $1.key }) {
            try await members[i].consumer?.ack(tags)
        }
        for (i, tags) in settlement.rejects.sorted(by: { $0.key < $1.key }) {
            for tag in tags { try await members[i].consumer?.reject(tag) }
            counters.deadLettered += tags.count
        }
    }
}
