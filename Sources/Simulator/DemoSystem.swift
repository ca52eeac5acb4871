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
public actor DemoSystem {
    struct Member: Sendable {
        let group: String
        let id: String
        let index: Int
        var partitions: [TopicPartition]
    }

    struct RetryState: Sendable {
        var offset: Int64
        var attempts: Int
        var nextAttemptMillis: Int64
    }

    enum Outcome {
        case ignored
        case handled([OutgoingRecord])
        case failed(DemoFailure)
    }

    /// The configuration the system was created with.
    public nonisolated let config: DemoConfig
    let tuning: DemoTuning

    private let log: any DemoLog
    private var rng: SplitMix64
    private var members: [Member] = []
    private var positions: [String: [TopicPartition: Int64]] = [:]
    private var committed: [String: [TopicPartition: Int64]] = [:]
    private var retryStates: [String: [TopicPartition: RetryState]] = [:]
    private var tokens: [String: Double] = [:]
    private var nextHeartbeat: [String: Int64] = [:]
    private var knownTopics: Set<String> = []
    private var originMillis: Int64?
    private var lastMillis: Int64 = 0
    private var stepIndex = 0
    /// End of the step being processed: the timestamp of events produced by consumers.
    private var stepTime: Int64 = 0
    private var orderCounter: UInt32 = 0
    private var eventCounter: UInt64 = 0
    private var poisonCounters: [String: Int] = [:]
    private var isSetUp = false
    private var advancing = false
    private var counters = DemoStats()
    /// Where spans go; nil: no spans are made (see DemoSpans.swift).
    private var spanSink: DemoSpanSink?
    /// This step's spans, handed to `spanSink` at its end.
    private var stepSpans: [Span] = []
    private var spanCounter: UInt64 = 0

    /// Subscriptions and member counts per group.
    static let subscriptions: [(group: String, topics: [String], members: Int)] = [
        (DemoGroups.orderService, [DemoTopics.payments, DemoTopics.shipments], 1),
        (DemoGroups.paymentService, [DemoTopics.orders, DemoTopics.inventory], 2),
        (DemoGroups.inventoryService, [DemoTopics.payments, DemoTopics.shipments], 2),
        (DemoGroups.shippingService, [DemoTopics.inventory], 1),
    ]

    static let catalogSize = 40
    static let warehouses = ["AMS-1", "FRA-2", "DUB-1"]
    static let carriers = ["DHL", "UPS", "PostNL", "DPD"]
    static let paymentMethods = ["card", "paypal", "sepa_debit"]
    static let declineReasons = ["insufficient_funds", "card_expired", "fraud_suspected"]
    static let shipmentFailureReasons = ["address_undeliverable", "carrier_rejected_parcel"]

    /// Creates the system; nothing is written until `setUp()`.
    public init(log: any DemoLog, config: DemoConfig) {
        self.init(log: log, config: config, tuning: .standard)
    }

    init(log: any DemoLog, config: DemoConfig, tuning: DemoTuning) {
        self.log = log
        self.config = config
        self.tuning = tuning
        self.rng = SplitMix64(seed: config.seed)
    }

    /// Sends the services' OpenTelemetry spans (producer and consumer, see `DemoSpans`) to `sink`, once per step.
    public func setSpanSink(_ sink: DemoSpanSink?) {
        spanSink = sink
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
        var partitionsByTopic: [String: [PartitionWatermarks]] = [:]
        for topic in snapshot.topics { partitionsByTopic[topic.name] = topic.partitions }
        knownTopics = Set(partitionsByTopic.keys)

        members = []
        for sub in Self.subscriptions {
            var tps: [TopicPartition] = []
            for topic in sub.topics {
                for p in partitionsByTopic[topic] ?? [] { tps.append(TopicPartition(topic, p.partition)) }
            }
            var group = (0..<sub.members).map { i in
                Member(group: sub.group, id: "\(sub.group)-\(i + 1)", index: i, partitions: [])
            }
            for (i, tp) in tps.enumerated() { group[i % sub.members].partitions.append(tp) }
            members += group

            let existing = snapshot.groups.first { $0.id == sub.group }?.offsets ?? [:]
            var pos: [TopicPartition: Int64] = [:]
            for tp in tps {
                let low = partitionsByTopic[tp.topic]?.first { $0.partition == tp.partition }?.low ?? 0
                pos[tp] = existing[tp] ?? low
            }
            positions[sub.group] = pos
            committed[sub.group] = existing
        }
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

        let nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        guard let origin = originMillis else {
            originMillis = nowMillis
            lastMillis = nowMillis
            return
        }
        guard nowMillis > lastMillis else { return }
        if nowMillis - lastMillis > tuning.maxCatchUpMillis {
            counters.skippedSeconds += Double(nowMillis - lastMillis - tuning.maxCatchUpMillis) / 1000
            lastMillis = nowMillis - tuning.maxCatchUpMillis
        }
        while lastMillis < nowMillis {
            let next = min(nowMillis, lastMillis + tuning.stepMillis)
            try await step(from: lastMillis, to: next, origin: origin)
            lastMillis = next
            counters.simulatedSeconds = Double(next - origin) / 1000
        }
    }

    /// Runs in real time: `advance(to: Date())` every `tick` until `deadline`, until
    /// `config.duration` has elapsed, or until the task is cancelled (then it returns normally).
    /// Calls `setUp()` first when it has not run.
    public func run(until deadline: Date? = nil, tick: Duration = .milliseconds(100)) async throws {
        if !isSetUp { try await setUp() }
        let start = Date()
        var end = deadline
        if let duration = config.duration {
            let byDuration = start.addingTimeInterval(duration)
            end = min(end ?? byDuration, byDuration)
        }
        try await advance(to: start)
        while !Task.isCancelled {
            let now = Date()
            if let end, now >= end {
                try await advance(to: end)
                return
            }
            try await advance(to: now)
            do { try await Task.sleep(for: tick) } catch { return }
        }
    }

    // MARK: One step

    private func step(from: Int64, to: Int64, origin: Int64) async throws {
        stepIndex += 1
        stepTime = to
        let dt = Double(to - from) / 1000
        let t = Double(to - origin) / 1000
        var outputs: [String: [OutgoingRecord]] = [:]
        do {
            // Consume what earlier steps produced (outputs are produced at the end of the step,
            // so each hop of the saga takes at least one step).
            for sub in Self.subscriptions {
                let group = sub.group
                let capacity = group == DemoGroups.shippingService
                    ? slowCapacityFactor(atSeconds: t) * config.rate : tuning.fastCapacityPerSecond
                var budget = min((tokens[group] ?? 0) + capacity * dt, max(2 * capacity * dt, 1))
                for member in members where member.group == group && !isStalled(member, atSeconds: t) {
                    let n = member.partitions.count
                    for k in 0..<n {
                        let tp = member.partitions[(k + stepIndex) % n]
                        try await consume(tp, group: group, budget: &budget, now: to, outputs: &outputs)
                    }
                }
                tokens[group] = budget
            }

            var batches = placeOrders(from: from, to: to, atSeconds: t, dt: dt)
            for (topic, records) in outputs { batches[topic, default: []] += records }
            for topic in DemoTopics.layout {
                guard let batch = batches[topic.name], !batch.isEmpty else { continue }
                try await log.produce(batch)
                counters.eventsProduced += batch.count
                for record in batch where !topic.name.hasSuffix(".DLT") {
                    if let type = record.headers.last(where: { $0.name == DemoHeaders.eventType })?.utf8Value {
                        counters.eventsByType[type, default: 0] += 1
                    }
                }
                if topic.name.hasSuffix(".DLT") { counters.deadLettered += batch.count }
            }
            if let sink = spanSink, !stepSpans.isEmpty {
                sink(stepSpans)
            }
            stepSpans.removeAll(keepingCapacity: true)

            // Commit after producing (at-least-once), then heartbeat.
            for member in members {
                var changed: [TopicPartition: Int64] = [:]
                for tp in member.partitions {
                    if let p = positions[member.group]?[tp], p != committed[member.group]?[tp] { changed[tp] = p }
                }
                if !changed.isEmpty {
                    try await log.commit(group: member.group, member: member.id, offsets: changed)
                    for (tp, p) in changed { committed[member.group, default: [:]][tp] = p }
                }
                if to >= nextHeartbeat[member.id] ?? 0 {
                    try await log.commit(group: member.group, member: member.id, offsets: [:])
                    nextHeartbeat[member.id] = to + tuning.heartbeatMillis
                }
            }
        } catch {
            stepSpans.removeAll(keepingCapacity: true)
            // Re-read from the committed offsets next time, as a restarted consumer would.
            for (group, offsets) in committed {
                for (tp, offset) in offsets { positions[group, default: [:]][tp] = offset }
            }
            throw error
        }
    }

    private func consume(_ tp: TopicPartition, group: String, budget: inout Double, now: Int64,
                         outputs: inout [String: [OutgoingRecord]]) async throws {
        var position = positions[group]?[tp] ?? 0
        defer { positions[group, default: [:]][tp] = position }
        fetching: while budget >= 1 {
            let limit = min(tuning.fetchMax, Int(budget))
            let records = try await log.fetch(topic: tp.topic, partition: tp.partition, from: position,
                                              maxRecords: limit)
            if records.isEmpty { break }
            for record in records where record.offset >= position {
                var state = retryStates[group]?[tp]
                if let s = state, s.offset != record.offset { state = nil }
                if let s = state, now < s.nextAttemptMillis { break fetching }  // backing off
                let outcome = process(record, group: group)
                if spanSink != nil { traceProcessing(record, group: group, outcome: outcome, now: now) }
                switch outcome {
                case .ignored:
                    break
                case .handled(let produced):
                    for out in produced { outputs[out.topic, default: []].append(out) }
                case .failed(let failure):
                    if var s = state {
                        s.attempts += 1
                        counters.retries += 1
                        if s.attempts < tuning.maxRetries {
                            s.nextAttemptMillis = now + tuning.retryBackoffMillis
                            retryStates[group, default: [:]][tp] = s
                            break fetching
                        }
                        let dlt = record.topic + ".DLT"
                        if knownTopics.contains(dlt) {
                            outputs[dlt, default: []].append(SpringDLTHeaders.deadLetter(
                                of: record, to: dlt, group: group, failure: failure, timestampMillis: now))
                        }
                    } else {
                        retryStates[group, default: [:]][tp] = RetryState(
                            offset: record.offset, attempts: 0, nextAttemptMillis: now + tuning.retryBackoffMillis)
                        break fetching
                    }
                }
                retryStates[group]?[tp] = nil
                position = record.offset + 1
                budget -= 1
                counters.eventsConsumed += 1
            }
            if records.count < limit { break }
        }
    }

    private func isStalled(_ member: Member, atSeconds t: Double) -> Bool {
        guard member.group == DemoGroups.inventoryService, tuning.stallPeriodSeconds > 0,
              t >= tuning.stallFirstAtSeconds else { return false }
        let since = t - tuning.stallFirstAtSeconds
        let episode = (since / tuning.stallPeriodSeconds).rounded(.down)
        guard since - episode * tuning.stallPeriodSeconds < tuning.stallDurationSeconds else { return false }
        let h = Mix.hash(config.seed, UInt64(episode), "stall")
        if Mix.unit(h) < 0.5 { return true }  // the whole group hangs
        let count = members.filter { $0.group == member.group }.count
        return member.index == Int((h >> 32) % UInt64(max(count, 1)))  // one member hangs
    }

    /// The slow consumer's capacity factor at simulated second `t` (see `DemoTuning`).
    func slowCapacityFactor(atSeconds t: Double) -> Double {
        guard tuning.slowPhasePeriodSeconds > 0, t >= tuning.slowPhaseStartSeconds else { return tuning.slowCapacityFactor }
        let phase = (t - tuning.slowPhaseStartSeconds).truncatingRemainder(dividingBy: tuning.slowPhasePeriodSeconds)
        return phase < tuning.slowPhaseDurationSeconds ? tuning.slowPhaseFactor : tuning.slowCapacityFactor
    }

    /// Orders per second at simulated second `t`: a wave times random bursts and lulls.
    func orderRate(atSeconds t: Double) -> Double {
        let wave = 1 + tuning.waveAmplitude * sin(2 * Double.pi * t / tuning.wavePeriodSeconds)
        let slot = UInt64(max(0, (t / tuning.burstSlotSeconds).rounded(.down)))
        let u = Mix.unit(Mix.hash(config.seed, slot, "burst"))
        var factor = 1.0
        if u < tuning.burstProbability {
            factor = 2 + u / tuning.burstProbability
        } else if u > 1 - tuning.lullProbability {
            factor = 0.3
        }
        return max(0, config.rate * wave * factor)
    }

    // MARK: Services

    private func placeOrders(from: Int64, to: Int64, atSeconds t: Double, dt: Double) -> [String: [OutgoingRecord]] {
        let count = rng.poisson(orderRate(atSeconds: t) * dt)
        var records: [OutgoingRecord] = []
        for i in 0..<count {
            let at = from + (to - from) * Int64(i + 1) / Int64(count + 1)
            orderCounter &+= 1
            let orderID = "ord-" + Mix.hex(Mix.mix32(orderCounter ^ UInt32(truncatingIfNeeded: config.seed)), width: 8)
            let sku = 1 + rng.next(below: Self.catalogSize)
            let quantity = 1 + rng.next(below: 3)
            let unitCents = 499 + Int64(Mix.hash(config.seed, UInt64(sku), "price") % 9_500)
            var fields: [String: JSONScalar] = [
                "customerId": .string("cust-" + String(10_000 + rng.next(below: 90_000))),
                "sku": .string("sku-\(sku)"),
                "quantity": .int(Int64(quantity)),
                "amount": .cents(unitCents * Int64(quantity)),
                "currency": .string("EUR"),
            ]
            counters.ordersPlaced += 1
            guard rng.nextUnit() < config.poisonRate else {
                records.append(event(.orderPlaced, orderID: orderID, fields: fields, at: at))
                traceOrderPlaced(records.last)
                continue
            }
            counters.poisonProduced += 1
            let variant = nextPoisonVariant(DemoTopics.orders)
            switch variant % 3 {
            case 0:  // valid JSON, but a SKU the catalog does not know
                fields["sku"] = .string("sku-\(41 + rng.next(below: 59))")
                records.append(event(.orderPlaced, orderID: orderID, fields: fields, at: at))
            case 1:  // invalid UTF-8 in the middle of a string
                fields["customerNote"] = .string(Self.rawMarker)
                records.append(event(.orderPlaced, orderID: orderID, fields: fields, at: at,
                                     raw: [0x47, 0x72, 0xC3, 0x28, 0xFF, 0xFE, 0x21]))
            default:  // a raw ANSI escape sequence (invalid JSON, hostile to terminals)
                fields["customerNote"] = .string(Self.rawMarker)
                records.append(event(.orderPlaced, orderID: orderID, fields: fields, at: at,
                                     raw: Array("\u{1b}[31mURGENT\u{1b}[0m leave at door".utf8)))
            }
            traceOrderPlaced(records.last)
        }
        return records.isEmpty ? [:] : [DemoTopics.orders: records]
    }

    /// The order service's PRODUCER span for a new OrderPlaced.
    private func traceOrderPlaced(_ record: OutgoingRecord?) {
        guard spanSink != nil, let record,
              let span = DemoSpans.producer(record, service: DemoGroups.orderService, parent: nil, seed: config.seed)
        else { return }
        stepSpans.append(span)
    }

    /// A CONSUMER span for one processing attempt, and PRODUCER spans (its children) for what it publishes.
    private func traceProcessing(_ record: Record, group: String, outcome: Outcome, now: Int64) {
        var failure: (type: String, message: String, stack: String)?
        switch outcome {
        case .ignored: return
        case .handled: failure = nil
        case .failed(let f): failure = (f.causeClass, f.message, f.stackTrace(service: group))
        }
        spanCounter &+= 1
        let spanID = Mix.hex(Mix.mix64(spanCounter &+ Mix.mix64(config.seed ^ 0xC0_45_0E_11)) | 1, width: 16)
        guard let consumer = DemoSpans.consumer(record, service: group, spanID: spanID, atMillis: now,
                                                failure: failure, seed: config.seed) else { return }
        stepSpans.append(consumer)
        if case .handled(let produced) = outcome {
            for out in produced {
                if let span = DemoSpans.producer(out, service: group, parent: spanID, seed: config.seed) {
                    stepSpans.append(span)
                }
            }
        }
    }

    private func nextPoisonVariant(_ topic: String) -> Int {
        let v = poisonCounters[topic, default: 0]
        poisonCounters[topic] = v + 1
        return v
    }

    private func handles(_ group: String, _ type: DemoEventType) -> Bool {
        switch group {
        case DemoGroups.orderService: return [.paymentDeclined, .paymentRefunded, .orderShipped].contains(type)
        case DemoGroups.paymentService: return [.orderPlaced, .outOfStock, .inventoryReleased].contains(type)
        case DemoGroups.inventoryService: return [.paymentAuthorized, .shipmentFailed].contains(type)
        case DemoGroups.shippingService: return type == .inventoryReserved
        default: return false
        }
    }

    /// One record through one service: pure apart from ids and counters.
    func process(_ record: Record, group: String) -> Outcome {
        guard let name = record.header(DemoHeaders.eventType)?.utf8Value,
              let type = DemoEventType(rawValue: name), handles(group, type) else { return .ignored }
        let env: EventEnvelope
        switch Self.decode(record) {
        case .failure(let f): return .failed(f)
        case .success(let e): env = e
        }
        guard let orderID = env.orderId ?? env.correlationId ?? record.header(DemoHeaders.correlationID)?.utf8Value
        else { return .failed(.malformedJSON()) }
        let subject = Mix.fnv(orderID)
        func pick(_ list: [String], _ purpose: String) -> String {
            list[Int(Mix.hash(config.seed, subject, purpose) % UInt64(list.count))]
        }
        func chance(_ purpose: String) -> Double { Mix.unit(Mix.hash(config.seed, subject, purpose)) }
        let money: [String: JSONScalar] = [
            "amount": .cents(env.amountCents ?? 0), "currency": .string(env.currency ?? "EUR"),
        ]
        let item: [String: JSONScalar] = [
            "sku": .string(env.sku ?? "unknown"), "quantity": .int(Int64(env.quantity ?? 0)),
        ]
        let paymentID = "pay-" + Mix.hex(Mix.hash(config.seed, subject, "paymentId") >> 32, width: 8)
        let reservationID = "res-" + Mix.hex(Mix.hash(config.seed, subject, "reservationId") >> 32, width: 8)
        let now = stepTime
        var out: [OutgoingRecord] = []

        switch (group, type) {
        case (DemoGroups.paymentService, .orderPlaced):
            let skuNumber = env.sku.flatMap { $0.hasPrefix("sku-") ? Int($0.dropFirst(4)) : nil }
            guard let n = skuNumber, (1...Self.catalogSize).contains(n) else {
                return .failed(.unknownSKU(env.sku ?? "<missing sku>"))
            }
            if chance("decline") < tuning.declineRate {
                out.append(event(.paymentDeclined, orderID: orderID,
                                 fields: money.merging(["reason": .string(pick(Self.declineReasons, "declineReason"))]) { a, _ in a },
                                 at: now))
            } else {
                var fields = money.merging(item) { a, _ in a }
                fields["paymentId"] = .string(paymentID)
                fields["method"] = .string(pick(Self.paymentMethods, "method"))
                if let c = env.customerId { fields["customerId"] = .string(c) }
                var schema = DemoEventType.paymentAuthorized.schemaVersion
                if chance("paymentPoison") < config.poisonRate {
                    counters.poisonProduced += 1
                    if nextPoisonVariant(DemoTopics.payments) % 2 == 0 {
                        schema = 99
                    } else {
                        fields["quantity"] = .int(-Int64(1 + Mix.hash(config.seed, subject, "negQty") % 5))
                    }
                }
                out.append(event(.paymentAuthorized, orderID: orderID, fields: fields, at: now, schemaVersion: schema))
            }
        case (DemoGroups.paymentService, .outOfStock), (DemoGroups.paymentService, .inventoryReleased):
            var fields = money
            fields["paymentId"] = .string(paymentID)
            fields["reason"] = .string(type == .outOfStock ? "out_of_stock" : "shipment_failed")
            out.append(event(.paymentRefunded, orderID: orderID, fields: fields, at: now))
        case (DemoGroups.inventoryService, .paymentAuthorized):
            let quantity = env.quantity ?? 0
            guard quantity > 0 else { return .failed(.nonPositiveQuantity(quantity)) }
            var fields = money.merging(item) { a, _ in a }
            if chance("outOfStock") < tuning.outOfStockRate {
                fields["available"] = .int(Int64(Mix.hash(config.seed, subject, "available") % UInt64(quantity)))
                out.append(event(.outOfStock, orderID: orderID, fields: fields, at: now))
            } else {
                fields["warehouse"] = .string(pick(Self.warehouses, "warehouse"))
                fields["reservationId"] = .string(reservationID)
                out.append(event(.inventoryReserved, orderID: orderID, fields: fields, at: now))
            }
        case (DemoGroups.inventoryService, .shipmentFailed):
            var fields = money.merging(item) { a, _ in a }
            fields["reservationId"] = .string(env.reservationId ?? reservationID)
            fields["warehouse"] = .string(env.warehouse ?? pick(Self.warehouses, "warehouse"))
            fields["reason"] = .string(env.reason ?? "shipment_failed")
            out.append(event(.inventoryReleased, orderID: orderID, fields: fields, at: now))
        case (DemoGroups.shippingService, .inventoryReserved):
            var fields = money.merging(item) { a, _ in a }
            fields["carrier"] = .string(pick(Self.carriers, "carrier"))
            fields["warehouse"] = .string(env.warehouse ?? pick(Self.warehouses, "warehouse"))
            fields["reservationId"] = .string(env.reservationId ?? reservationID)
            if chance("shipmentFailure") < tuning.shipmentFailureRate {
                fields["reason"] = .string(pick(Self.shipmentFailureReasons, "shipReason"))
                out.append(event(.shipmentFailed, orderID: orderID, fields: fields, at: now))
            } else {
                fields["trackingNumber"] = .string("TRK" + String(Mix.hash(config.seed, subject, "tracking") % 1_000_000_000))
                out.append(event(.orderShipped, orderID: orderID, fields: fields, at: now))
            }
        case (DemoGroups.orderService, .paymentDeclined), (DemoGroups.orderService, .paymentRefunded):
            let reason = type == .paymentDeclined ? "payment_declined" : (env.reason ?? "payment_refunded")
            counters.ordersCancelled += 1
            out.append(event(.orderCancelled, orderID: orderID, fields: ["reason": .string(reason)], at: now))
        case (DemoGroups.orderService, .orderShipped):
            counters.ordersCompleted += 1
        default:
            return .ignored
        }
        return .handled(out)
    }

    static func decode(_ record: Record) -> Result<EventEnvelope, DemoFailure> {
        guard let value = record.value, !value.isEmpty else { return .failure(.malformedJSON()) }
        if let bad = UTF8Check.firstInvalid(value) {
            let byte = bad.index < value.count ? value[bad.index] : 0
            return .failure(.invalidUTF8(byte: byte, middle: bad.middle, column: bad.index + 1))
        }
        if let i = value.firstIndex(where: { $0 < 0x20 }) {
            return .failure(.controlCharacter(code: value[i], column: i + 1))
        }
        guard let env = try? JSONDecoder().decode(EventEnvelope.self, from: Data(value)) else {
            return .failure(.malformedJSON())
        }
        if let v = env.schemaVersion, v > 2 {
            return .failure(.unsupportedSchema(v, eventType: env.eventType ?? "event"))
        }
        return .success(env)
    }

    // MARK: Event construction

    static let rawMarker = "@@RAW@@"

    /// Builds one event record: key = order id, JSON value with sorted keys, standard headers.
    /// `raw` bytes, when given, replace the `rawMarker` string content verbatim (hostile poison).
    private func event(_ type: DemoEventType, orderID: String, fields: [String: JSONScalar], at millis: Int64,
                       schemaVersion: Int? = nil, raw: [UInt8]? = nil) -> OutgoingRecord {
        eventCounter &+= 1
        let eventID = "e-" + Mix.hex(Mix.mix64(eventCounter &+ Mix.mix64(config.seed)), width: 16)
        let schema = schemaVersion ?? type.schemaVersion
        var all = fields
        all["eventType"] = .string(type.rawValue)
        all["eventId"] = .string(eventID)
        all["schemaVersion"] = .int(Int64(schema))
        all["timestamp"] = .string(TimeText.iso8601(millis: millis))
        all["correlationId"] = .string(orderID)
        all["orderId"] = .string(orderID)
        let text = JSONText.object(all)
        var value = Array(text.utf8)
        if let raw, let range = text.range(of: Self.rawMarker) {
            value = Array(text[..<range.lowerBound].utf8) + raw + Array(text[range.upperBound...].utf8)
        }
        let subject = Mix.fnv(orderID)
        let traceID = Mix.hex(Mix.hash(config.seed, subject, "trace-hi"), width: 16)
            + Mix.hex(Mix.hash(config.seed, subject, "trace-lo"), width: 16)
        let spanID = Mix.hex(Mix.mix64(eventCounter ^ 0x5DEE_CE66_D1CE_4E5B) | 1, width: 16)
        var headers = [
            RecordHeader(DemoHeaders.correlationID, orderID),
            RecordHeader(DemoHeaders.eventType, type.rawValue),
            RecordHeader(DemoHeaders.eventID, eventID),
            RecordHeader(DemoHeaders.schemaVersion, String(schema)),
            RecordHeader(DemoHeaders.contentType, "application/json"),
        ]
        if let context = TraceParent(traceID: traceID, spanID: spanID) {  // nil only for an all-zero hash
            headers.append(RecordHeader(TraceParent.headerName, context.header))
        }
        return OutgoingRecord(topic: type.topic, timestampMillis: millis, key: Array(orderID.utf8),
                              headers: headers, value: value)
    }
}
