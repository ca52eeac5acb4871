import Foundation
import EventModel

/// One service of the demo: its consumer group, how many members it runs and the event types it handles.
struct DemoService: Sendable {
    let group: String
    let members: Int
    let handles: Set<DemoEventType>

    /// The topics it subscribes to: those its event types are published on, in layout order.
    var topics: [String] {
        DemoTopics.layout.map(\.name).filter { name in handles.contains { $0.topic == name } }
    }

    /// Who handles what: the one routing table. Subscriptions, partition assignment and the rules all follow it.
    static let all: [DemoService] = [
        DemoService(group: DemoGroups.orderService, members: 1, handles: [.paymentDeclined, .paymentRefunded, .orderShipped]),
        DemoService(group: DemoGroups.paymentService, members: 2, handles: [.orderPlaced, .outOfStock, .inventoryReleased]),
        DemoService(group: DemoGroups.inventoryService, members: 2, handles: [.paymentAuthorized, .shipmentFailed]),
        DemoService(group: DemoGroups.shippingService, members: 1, handles: [.inventoryReserved]),
    ]

    private static let byGroup = Dictionary(uniqueKeysWithValues: all.map { ($0.group, $0) })

    /// True when `group` handles events of `type`.
    static func handles(_ group: String, _ type: DemoEventType) -> Bool {
        byGroup[group]?.handles.contains(type) ?? false
    }
}

/// What processing one record came to.
enum DemoOutcome {
    /// Not an event this service handles.
    case ignored
    /// Handled; these events are published in reply (possibly none).
    case handled([OutgoingRecord])
    /// Processing failed (a poison message).
    case failed(DemoFailure)
}

/// The services' business rules: new orders, and what each service publishes for each event it handles.
/// Everything follows from the seed, the order id and the times given; the only state is the random
/// stream of new orders and the id counters.
struct DemoRules: Sendable {
    static let catalogSize = 40
    static let warehouses = ["AMS-1", "FRA-2", "DUB-1"]
    static let carriers = ["DHL", "UPS", "PostNL", "DPD"]
    static let paymentMethods = ["card", "paypal", "sepa_debit"]
    static let declineReasons = ["insufficient_funds", "card_expired", "fraud_suspected"]
    static let shipmentFailureReasons = ["address_undeliverable", "carrier_rejected_parcel"]

    let config: DemoConfig
    let tuning: DemoTuning
    /// The faults these rules inject (the config's, or none for a driver that injects none).
    let faults: Set<DemoFault>
    private var rng: SplitMix64
    private var codec: DemoEventCodec
    private var orderCounter: UInt32 = 0
    private var poisonCounters: [String: Int] = [:]
    /// Fault state: counters and the next fat event's time. None of it draws from `rng`.
    private var commandsWritten = 0
    private var lastCommandMillis: Int64?
    private var authorizedCount = 0
    private var fatEventsWritten = 0
    private var nextFatMillis: Int64?
    /// Per group, the event ids handled so far (used only while `duplicates` is on).
    private var handledIDs: [String: HandledEventIDs] = [:]

    init(config: DemoConfig, tuning: DemoTuning, faults: Set<DemoFault>? = nil) {
        self.config = config
        self.tuning = tuning
        self.faults = faults ?? config.faults
        self.rng = SplitMix64(seed: config.seed)
        self.codec = DemoEventCodec(seed: config.seed)
    }

    // MARK: New orders

    /// The order service's new orders between `from` and `to` (ms), `expected` of them on average,
    /// evenly spaced; a `poisonRate` share of them poison (an unknown SKU, invalid UTF-8, an ANSI escape).
    mutating func placeOrders(from: Int64, to: Int64, expected: Double, stats: inout DemoStats) -> [OutgoingRecord] {
        let count = rng.poisson(expected)
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
            stats.ordersPlaced += 1
            defer { records += commandEvent(orderID: orderID, sku: sku, quantity: quantity, at: at, stats: &stats) }
            guard rng.nextUnit() < config.poisonRate else {
                if isFatDue(at: at, firstOrderAt: from) {
                    fields["items"] = .rawJSON(DemoFaultPlan.packingList(seed: config.seed, orderID: orderID, bytes: tuning.fatEventBytes))
                    fields["notes"] = .string("bulk order: packing list attached")
                    fatEventsWritten += 1
                    nextFatMillis = at + DemoFaultPlan.fatGapMillis(seed: config.seed, index: fatEventsWritten, range: tuning.fatPeriodSeconds)
                    stats.faultsInjected[.fatEvents, default: 0] += 1
                }
                records.append(codec.event(.orderPlaced, orderID: orderID, fields: fields, at: at))
                continue
            }
            stats.poisonProduced += 1
            switch nextPoisonVariant(DemoTopics.orders) % 3 {
            case 0:  // valid JSON, but a SKU the catalog does not know
                fields["sku"] = .string("sku-\(41 + rng.next(below: 59))")
                records.append(codec.event(.orderPlaced, orderID: orderID, fields: fields, at: at))
            case 1:  // invalid UTF-8 in the middle of a string
                fields["customerNote"] = .string(DemoEventCodec.rawMarker)
                records.append(codec.event(.orderPlaced, orderID: orderID, fields: fields, at: at,
                                           raw: [0x47, 0x72, 0xC3, 0x28, 0xFF, 0xFE, 0x21]))
            default:  // a raw ANSI escape sequence (invalid JSON, hostile to terminals)
                fields["customerNote"] = .string(DemoEventCodec.rawMarker)
                records.append(codec.event(.orderPlaced, orderID: orderID, fields: fields, at: at,
                                           raw: Array("\u{1b}[31mURGENT\u{1b}[0m leave at door".utf8)))
            }
        }
        return records
    }

    /// With `fat-events`: true when the order placed at `at` is to be the fat one (the first is due
    /// `fatFirstAfterSeconds` after the first order; a poison order due passes it on to the next).
    private mutating func isFatDue(at: Int64, firstOrderAt from: Int64) -> Bool {
        guard faults.contains(.fatEvents) else { return false }
        let due = nextFatMillis ?? from + Int64(tuning.fatFirstAfterSeconds * 1000)
        nextFatMillis = due
        return at >= due
    }

    /// With `command-events`: now and then order-service also publishes an imperative event type for
    /// the order on `orders`, a command dressed as an event. No consumer knows the type, so all ignore it.
    private mutating func commandEvent(orderID: String, sku: Int, quantity: Int, at: Int64,
                                       stats: inout DemoStats) -> [OutgoingRecord] {
        guard faults.contains(.commandEvents),
              DemoFaultPlan.isDue(Int(orderCounter), first: tuning.commandFirst, every: tuning.commandEvery) else { return [] }
        // A low rate whatever the order rate: at most one a second (`--rate 1000` would give 20/s).
        if let last = lastCommandMillis, at - last < tuning.commandMinGapMillis { return [] }
        lastCommandMillis = at
        let name = DemoFaultPlan.commandTypes[commandsWritten % DemoFaultPlan.commandTypes.count]
        commandsWritten += 1
        stats.faultsInjected[.commandEvents, default: 0] += 1
        let fields: [String: JSONScalar] = ["sku": .string("sku-\(sku)"), "quantity": .int(Int64(quantity))]
        return [codec.event(named: name, on: DemoTopics.orders, orderID: orderID, fields: fields, at: at, schemaVersion: 1)]
    }

    // MARK: Processing

    /// One record through one service at `now` (ms): pure apart from ids and counters. With `duplicates`
    /// on, the services are idempotent consumers: an event id already handled elsewhere is ignored.
    mutating func process(_ record: Record, group: String, at now: Int64, stats: inout DemoStats) -> DemoOutcome {
        guard faults.contains(.duplicates), let id = record.header(DemoHeaders.eventID)?.utf8Value else {
            return handle(record, group: group, at: now, stats: &stats)
        }
        let place = HandledEventIDs.Place(topic: record.topic, partition: record.partition, offset: record.offset)
        if handledIDs[group]?.isDuplicate(id, at: place) == true { return .ignored }
        let outcome = handle(record, group: group, at: now, stats: &stats)
        if case .handled = outcome { handledIDs[group, default: HandledEventIDs()].handled(id, at: place) }
        return outcome
    }

    private mutating func handle(_ record: Record, group: String, at now: Int64, stats: inout DemoStats) -> DemoOutcome {
        guard let type = DemoEventCodec.eventType(of: record), DemoService.handles(group, type) else { return .ignored }
        let env: EventEnvelope
        switch DemoEventCodec.decode(record) {
        case .failure(let f): return .failed(f)
        case .success(let e): env = e
        }
        guard let orderID = env.orderId ?? env.correlationId ?? record.header(DemoHeaders.correlationID)?.utf8Value
        else { return .failed(.malformedJSON()) }
        let order = Order(id: orderID, env: env, seed: config.seed)
        switch type {
        case .orderPlaced: return authorizePayment(order, at: now, stats: &stats)
        case .outOfStock, .inventoryReleased: return .handled([refundPayment(order, after: type, at: now)])
        case .paymentAuthorized: return reserveInventory(order, at: now, stats: &stats)
        case .shipmentFailed: return .handled([releaseInventory(order, at: now)])
        case .inventoryReserved: return .handled([ship(order, at: now)])
        case .paymentDeclined, .paymentRefunded:
            stats.ordersCancelled += 1
            let reason = type == .paymentDeclined ? "payment_declined" : (env.reason ?? "payment_refunded")
            return .handled([codec.event(.orderCancelled, orderID: orderID, fields: ["reason": .string(reason)], at: now)])
        case .orderShipped:
            stats.ordersCompleted += 1
            return .handled([])
        case .orderCancelled:
            return .ignored  // no service reacts to a cancellation
        }
    }

    /// payment-service on OrderPlaced: declines some, authorizes the rest (some of them poison for
    /// the inventory service: a schema it does not know, or a negative quantity). An unknown SKU fails.
    private mutating func authorizePayment(_ order: Order, at now: Int64, stats: inout DemoStats) -> DemoOutcome {
        let env = order.env
        let skuNumber = env.sku.flatMap { $0.hasPrefix("sku-") ? Int($0.dropFirst(4)) : nil }
        guard let n = skuNumber, (1...Self.catalogSize).contains(n) else {
            return .failed(.unknownSKU(env.sku ?? "<missing sku>"))
        }
        if order.chance("decline") < tuning.declineRate {
            return .handled([codec.event(.paymentDeclined, orderID: order.id,
                                         fields: order.money.merging(["reason": .string(order.pick(Self.declineReasons, "declineReason"))]) { a, _ in a },
                                         at: now)])
        }
        var fields = order.money.merging(order.item) { a, _ in a }
        fields["paymentId"] = .string(order.paymentID)
        fields["method"] = .string(order.pick(Self.paymentMethods, "method"))
        if let c = env.customerId { fields["customerId"] = .string(c) }
        var schema = DemoEventType.paymentAuthorized.schemaVersion
        let poison = order.chance("paymentPoison") < config.poisonRate
        if poison {
            stats.poisonProduced += 1
            if nextPoisonVariant(DemoTopics.payments) % 2 == 0 {
                schema = 99
            } else {
                fields["quantity"] = .int(-Int64(1 + Mix.hash(config.seed, order.subject, "negQty") % 5))
            }
        }
        let authorized = codec.event(.paymentAuthorized, orderID: order.id, fields: fields, at: now, schemaVersion: schema)
        guard !poison else { return .handled([authorized]) }  // never duplicated: dead letters stay as they were
        authorizedCount += 1
        // `duplicates`: a producer without idempotence retried a send whose first attempt did land, so
        // the very same record is written twice, back to back on the same partition.
        if faults.contains(.duplicates),
           DemoFaultPlan.isDue(authorizedCount, first: tuning.duplicateFirst, every: tuning.duplicateEvery) {
            stats.faultsInjected[.duplicates, default: 0] += 1
            return .handled([authorized, authorized])
        }
        return .handled([authorized])
    }

    /// payment-service on OutOfStock or InventoryReleased: refunds.
    private mutating func refundPayment(_ order: Order, after type: DemoEventType, at now: Int64) -> OutgoingRecord {
        var fields = order.money
        fields["paymentId"] = .string(order.paymentID)
        fields["reason"] = .string(type == .outOfStock ? "out_of_stock" : "shipment_failed")
        return codec.event(.paymentRefunded, orderID: order.id, fields: fields, at: now)
    }

    /// inventory-service on PaymentAuthorized: reserves stock, or reports it out of stock. A non-positive quantity fails.
    private mutating func reserveInventory(_ order: Order, at now: Int64, stats: inout DemoStats) -> DemoOutcome {
        let quantity = order.env.quantity ?? 0
        guard quantity > 0 else { return .failed(.nonPositiveQuantity(quantity)) }
        var fields = order.money.merging(order.item) { a, _ in a }
        if order.chance("outOfStock") < tuning.outOfStockRate {
            fields["available"] = .int(Int64(Mix.hash(config.seed, order.subject, "available") % UInt64(quantity)))
            return .handled([codec.event(.outOfStock, orderID: order.id, fields: fields, at: now)])
        }
        let warehouse = JSONScalar.string(order.pick(Self.warehouses, "warehouse"))
        fields["reservationId"] = .string(order.reservationID)
        // `schema-drift`: a share of the records is version 2, where `warehouse` became `warehouseCode`;
        // both versions are live at once, as during a rolling upgrade of the producer.
        if faults.contains(.schemaDrift), order.chance("schemaDrift") < tuning.schemaDriftShare {
            fields["warehouseCode"] = warehouse
            stats.faultsInjected[.schemaDrift, default: 0] += 1
            return .handled([codec.event(.inventoryReserved, orderID: order.id, fields: fields, at: now, schemaVersion: 2)])
        }
        fields["warehouse"] = warehouse
        return .handled([codec.event(.inventoryReserved, orderID: order.id, fields: fields, at: now)])
    }

    /// inventory-service on ShipmentFailed: releases the reservation.
    private mutating func releaseInventory(_ order: Order, at now: Int64) -> OutgoingRecord {
        let env = order.env
        var fields = order.money.merging(order.item) { a, _ in a }
        fields["reservationId"] = .string(env.reservationId ?? order.reservationID)
        fields["warehouse"] = .string(env.warehouse ?? order.pick(Self.warehouses, "warehouse"))
        fields["reason"] = .string(env.reason ?? "shipment_failed")
        return codec.event(.inventoryReleased, orderID: order.id, fields: fields, at: now)
    }

    /// shipping-service on InventoryReserved: ships, or fails to.
    private mutating func ship(_ order: Order, at now: Int64) -> OutgoingRecord {
        let env = order.env
        var fields = order.money.merging(order.item) { a, _ in a }
        fields["carrier"] = .string(order.pick(Self.carriers, "carrier"))
        // InventoryReserved v1 has `warehouse`, v2 `warehouseCode`: a tolerant reader takes either.
        fields["warehouse"] = .string(env.warehouse ?? env.warehouseCode ?? order.pick(Self.warehouses, "warehouse"))
        fields["reservationId"] = .string(env.reservationId ?? order.reservationID)
        if order.chance("shipmentFailure") < tuning.shipmentFailureRate {
            fields["reason"] = .string(order.pick(Self.shipmentFailureReasons, "shipReason"))
            return codec.event(.shipmentFailed, orderID: order.id, fields: fields, at: now)
        }
        fields["trackingNumber"] = .string("TRK" + String(Mix.hash(config.seed, order.subject, "tracking") % 1_000_000_000))
        return codec.event(.orderShipped, orderID: order.id, fields: fields, at: now)
    }

    private mutating func nextPoisonVariant(_ topic: String) -> Int {
        let v = poisonCounters[topic, default: 0]
        poisonCounters[topic] = v + 1
        return v
    }

    /// An order as a service sees it in an event: its id, the payload, and choices that follow from the id.
    private struct Order {
        let id: String
        let env: EventEnvelope
        let seed: UInt64
        let subject: UInt64

        init(id: String, env: EventEnvelope, seed: UInt64) {
            self.id = id
            self.env = env
            self.seed = seed
            self.subject = Mix.fnv(id)
        }

        /// One of `list`, the same for this order and purpose every time.
        func pick(_ list: [String], _ purpose: String) -> String {
            list[Int(Mix.hash(seed, subject, purpose) % UInt64(list.count))]
        }

        /// A number in [0, 1), the same for this order and purpose every time.
        func chance(_ purpose: String) -> Double { Mix.unit(Mix.hash(seed, subject, purpose)) }

        var money: [String: JSONScalar] {
            ["amount": .cents(env.amountCents ?? 0), "currency": .string(env.currency ?? "EUR")]
        }

        var item: [String: JSONScalar] {
            ["sku": .string(env.sku ?? "unknown"), "quantity": .int(Int64(env.quantity ?? 0))]
        }

        var paymentID: String { "pay-" + Mix.hex(Mix.hash(seed, subject, "paymentId") >> 32, width: 8) }
        var reservationID: String { "res-" + Mix.hex(Mix.hash(seed, subject, "reservationId") >> 32, width: 8) }
    }
}
