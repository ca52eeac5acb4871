import XCTest
import Foundation
import EventModel
@testable import Simulator

/// The demo's injected design faults (`DemoFault`): each shows in the records within the first 60
/// simulated seconds, at the default rate and at 5 orders/s; none shows with `faults: []`; and the
/// saga's outcomes and dead letters are those of the run without faults.
final class DemoFaultsTests: XCTestCase {
    private let mainTopics = [DemoTopics.orders, DemoTopics.payments, DemoTopics.inventory, DemoTopics.shipments]
    private static let seed: UInt64 = 2026

    private func faultyRun(rate: Double = 20) async throws -> SimRun {
        try await RunCache.shared.run(seed: Self.seed, seconds: 60, rate: rate, faults: DemoFault.all)
    }

    private func cleanRun(rate: Double = 20) async throws -> SimRun {
        try await RunCache.shared.run(seed: Self.seed, seconds: 60, rate: rate, faults: [])
    }

    // MARK: What the records show

    private func header(_ record: Record, _ name: String) -> String? { record.header(name)?.utf8Value }

    private func object(_ record: Record) -> [String: Any]? {
        guard let value = record.value else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any]
    }

    private func seconds(_ record: Record) -> Double {
        Double(record.timestampMillis) / 1000 - SimRun.start.timeIntervalSince1970
    }

    /// Records that share an `event-id` with an earlier record, each with that earlier record.
    private func duplicatePairs(_ records: [Record]) -> [(first: Record, again: Record)] {
        var seen: [String: Record] = [:]
        var pairs: [(Record, Record)] = []
        for record in records {
            guard let id = header(record, "event-id") else { continue }
            if let first = seen[id] { pairs.append((first, record)) } else { seen[id] = record }
        }
        return pairs
    }

    /// Event types that are none of the saga's and name an action to take (a verb first).
    private func commandRecords(_ records: [Record]) -> [Record] {
        let verbs = ["Reserve", "Send", "Charge", "Ship", "Cancel", "Release", "Refund", "Create", "Update", "Process"]
        return records.filter { record in
            guard let type = header(record, "event-type") else { return false }
            return DemoEventType(rawValue: type) == nil && verbs.contains { type.hasPrefix($0) }
        }
    }

    private func inventoryReserved(_ records: [Record], version: String) -> [Record] {
        records.filter { header($0, "event-type") == "InventoryReserved" && header($0, "schema-version") == version }
    }

    private func fatRecords(_ records: [Record]) -> [Record] {
        records.filter { ($0.value?.count ?? 0) > 100_000 }
    }

    // MARK: Each fault, on

    func testDuplicatesAreTheSameRecordAtTwoOffsetsAndAreHandledOnce() async throws {
        let run = try await faultyRun()
        let payments = try await run.log.records(in: DemoTopics.payments)
        let pairs = duplicatePairs(payments)
        XCTAssertFalse(pairs.isEmpty, "no event id was written twice to payments within 60 s")
        XCTAssertEqual(pairs.count, run.stats.faultsInjected[.duplicates])
        for (first, again) in pairs {
            XCTAssertEqual(header(again, "event-type"), "PaymentAuthorized")
            XCTAssertEqual(again.partition, first.partition)
            XCTAssertNotEqual(again.offset, first.offset)
            XCTAssertEqual(again.key, first.key)
            XCTAssertEqual(again.headers, first.headers)
            XCTAssertEqual(again.value, first.value)
            XCTAssertLessThan(seconds(first), 60)
        }
        let earliest = try XCTUnwrap(pairs.map { seconds($0.first) }.min())
        XCTAssertLessThan(earliest, 10, "the first duplicate shows within seconds")

        // inventory-service, an idempotent consumer, answers each duplicated authorization once.
        let inventory = try await run.log.records(in: DemoTopics.inventory)
        for (first, _) in pairs where seconds(first) < 50 {
            let order = try XCTUnwrap(header(first, "correlation-id"))
            let answers = inventory.filter {
                header($0, "correlation-id") == order && ["InventoryReserved", "OutOfStock"].contains(header($0, "event-type"))
            }
            XCTAssertEqual(answers.count, 1, "order \(order): \(answers.count) answers to one authorization written twice")
        }
    }

    func testCommandNamedEventsArePublishedOnOrdersAndIgnored() async throws {
        let run = try await faultyRun()
        let records = try await run.records(mainTopics)
        let commands = commandRecords(records)
        XCTAssertFalse(commands.isEmpty, "no command-named event within 60 s")
        XCTAssertEqual(commands.count, run.stats.faultsInjected[.commandEvents])
        XCTAssertEqual(Set(commands.compactMap { header($0, "event-type") }), Set(DemoFaultPlan.commandTypes))
        for command in commands {
            XCTAssertEqual(command.topic, DemoTopics.orders, "on an existing topic")
            XCTAssertEqual(object(command)?["eventType"] as? String, header(command, "event-type"))
            XCTAssertNotNil(header(command, "correlation-id"))
            XCTAssertNotNil(header(command, "traceparent"))
        }
        XCTAssertLessThan(try XCTUnwrap(commands.map(seconds).min()), 5)
        // At most a few per second.
        XCTAssertLessThanOrEqual(Double(commands.count) / 60, 3)
        // Nobody dead-letters them.
        let deadLetters = try await run.records([DemoTopics.ordersDLT, DemoTopics.paymentsDLT])
        XCTAssertFalse(deadLetters.contains { DemoFaultPlan.commandTypes.contains(header($0, "event-type") ?? "") })
    }

    func testSchemaDriftWritesTwoLiveVersionsOfInventoryReservedThatShippingReads() async throws {
        let run = try await faultyRun()
        let inventory = try await run.log.records(in: DemoTopics.inventory)
        let v1 = inventoryReserved(inventory, version: "1")
        let v2 = inventoryReserved(inventory, version: "2")
        XCTAssertFalse(v1.isEmpty)
        XCTAssertFalse(v2.isEmpty, "no InventoryReserved v2 within 60 s")
        XCTAssertEqual(v2.count, run.stats.faultsInjected[.schemaDrift])
        let share = Double(v2.count) / Double(v1.count + v2.count)
        XCTAssertEqual(share, 0.2, accuracy: 0.08)
        // Both versions live at once: v2 records sit between v1 records.
        let firstV2 = try XCTUnwrap(v2.map(seconds).min()), lastV2 = try XCTUnwrap(v2.map(seconds).max())
        XCTAssertTrue(v1.contains { seconds($0) > firstV2 } && v1.contains { seconds($0) < lastV2 })

        let keys1 = Set(try XCTUnwrap(object(try XCTUnwrap(v1.first))).keys)
        let keys2 = Set(try XCTUnwrap(object(try XCTUnwrap(v2.first))).keys)
        XCTAssertNotEqual(keys1, keys2)
        XCTAssertTrue(keys1.contains("warehouse") && !keys1.contains("warehouseCode"))
        XCTAssertTrue(keys2.contains("warehouseCode") && !keys2.contains("warehouse"))
        for record in v1 + v2 {
            let version = object(record)?["schemaVersion"] as? Int
            XCTAssertEqual(version.map(String.init), header(record, "schema-version"), "payload and header agree")
        }

        // shipping-service reads v2's warehouseCode as v1's warehouse.
        let shipments = try await run.log.records(in: DemoTopics.shipments)
        var checked = 0
        for reserved in v2 {
            let order = header(reserved, "correlation-id")
            guard let shipment = shipments.first(where: { header($0, "correlation-id") == order }) else { continue }
            XCTAssertEqual(object(shipment)?["warehouse"] as? String, object(reserved)?["warehouseCode"] as? String)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, "no v2 reservation was shipped within 60 s")
    }

    func testFatEventsAreValidOrdersOverOneHundredKilobytesEveryTwentyToThirtySeconds() async throws {
        let run = try await faultyRun()
        let records = try await run.records(mainTopics)
        let fat = fatRecords(records)
        XCTAssertFalse(fat.isEmpty, "no value over 100 kB within 60 s")
        XCTAssertEqual(fat.count, run.stats.faultsInjected[.fatEvents])
        let times = fat.map(seconds).sorted()
        XCTAssertLessThan(try XCTUnwrap(times.first), 30, "the first fat event shows within 30 s")
        XCTAssertTrue((2...3).contains(fat.count), "\(fat.count) fat events in 60 s")
        for (a, b) in zip(times, times.dropFirst()) {
            XCTAssertTrue((19.9...30.5).contains(b - a), "fat events \(b - a) s apart")
        }
        let payments = try await run.log.records(in: DemoTopics.payments)
        for record in fat {
            XCTAssertEqual(header(record, "event-type"), "OrderPlaced")
            XCTAssertEqual(record.topic, DemoTopics.orders)
            XCTAssertLessThan(record.value?.count ?? 0, 250_000)
            let payload = try XCTUnwrap(object(record), "a fat event is valid JSON")
            XCTAssertGreaterThan((payload["items"] as? [Any])?.count ?? 0, 100)
            // payment-service processed it as any other order.
            let order = header(record, "correlation-id")
            XCTAssertTrue(payments.contains { header($0, "correlation-id") == order }, "fat order \(order ?? "?") not processed")
        }
    }

    // MARK: Off, and the saga unharmed

    func testNoFaultShowsWhenAllAreOff() async throws {
        let run = try await cleanRun()
        let records = try await run.records(mainTopics)
        XCTAssertEqual(run.stats.faultsInjected, [:])
        XCTAssertEqual(run.stats.faultsSummary, "")
        XCTAssertTrue(duplicatePairs(records).isEmpty)
        XCTAssertTrue(commandRecords(records).isEmpty)
        XCTAssertTrue(records.allSatisfy { DemoEventType(rawValue: header($0, "event-type") ?? "") != nil })
        XCTAssertTrue(inventoryReserved(records, version: "2").isEmpty)
        XCTAssertFalse(records.contains { object($0)?["warehouseCode"] != nil })
        XCTAssertTrue(fatRecords(records).isEmpty)
    }

    func testFaultsLeaveOutcomesAndDeadLettersAsTheyWere() async throws {
        let faulty = try await faultyRun(), clean = try await cleanRun()
        XCTAssertEqual(faulty.stats.ordersPlaced, clean.stats.ordersPlaced)
        XCTAssertEqual(faulty.stats.poisonProduced, clean.stats.poisonProduced)
        XCTAssertEqual(faulty.stats.deadLettered, clean.stats.deadLettered)
        XCTAssertEqual(faulty.stats.ordersCompleted, clean.stats.ordersCompleted)
        XCTAssertEqual(faulty.stats.ordersCancelled, clean.stats.ordersCancelled)
        // The same orders end on the same dead-letter topics, with the same event types.
        func deadLetters(_ run: SimRun) async throws -> [String] {
            try await run.records([DemoTopics.ordersDLT, DemoTopics.paymentsDLT]).map {
                "\($0.topic) \(header($0, "correlation-id") ?? "?") \(header($0, "event-type") ?? "?")"
            }.sorted()
        }
        let faultyDead = try await deadLetters(faulty)
        XCTAssertFalse(faultyDead.isEmpty)
        let cleanDead = try await deadLetters(clean)
        XCTAssertEqual(faultyDead, cleanDead)
        // Every order's saga events (the saga's own types) are those of the clean run, but for the
        // duplicated records.
        func sagaEvents(_ run: SimRun) async throws -> [String: Int] {
            var counts: [String: Int] = [:]
            for record in try await run.records(mainTopics) {
                guard let type = header(record, "event-type"), DemoEventType(rawValue: type) != nil else { continue }
                counts[type, default: 0] += 1
            }
            return counts
        }
        var expected = try await sagaEvents(clean)
        expected["PaymentAuthorized", default: 0] += faulty.stats.faultsInjected[.duplicates] ?? 0
        let actual = try await sagaEvents(faulty)
        XCTAssertEqual(actual, expected)
    }

    func testEveryFaultShowsWithinSixtySecondsAtFiveOrdersASecond() async throws {
        let run = try await faultyRun(rate: 5)
        let records = try await run.records(mainTopics)
        XCTAssertFalse(duplicatePairs(records).isEmpty, "duplicates")
        XCTAssertFalse(commandRecords(records).isEmpty, "command-events")
        XCTAssertFalse(inventoryReserved(records, version: "2").isEmpty, "schema-drift")
        XCTAssertLessThan(try XCTUnwrap(fatRecords(records).map(seconds).min(), "fat-events"), 30)
        XCTAssertEqual(Set(run.stats.faultsInjected.keys), DemoFault.all)
        let clean = try await cleanRun(rate: 5)
        XCTAssertEqual(run.stats.deadLettered, clean.stats.deadLettered)
        XCTAssertEqual(run.stats.ordersCompleted, clean.stats.ordersCompleted)
    }

    func testEachFaultAloneInjectsOnlyItself() async throws {
        for fault in DemoFault.allCases {
            let run = try await SimRun.simulate(seed: 5, seconds: 30, faults: [fault])
            XCTAssertEqual(Set(run.stats.faultsInjected.keys), [fault], "\(fault.rawValue) alone")
        }
    }

    func testTheSameSeedInjectsTheSameFaults() async throws {
        let a = try await SimRun.simulate(seed: 9, seconds: 30, faults: DemoFault.all)
        let b = try await SimRun.simulate(seed: 9, seconds: 30, faults: DemoFault.all)
        let recordsA = try await a.records(mainTopics), recordsB = try await b.records(mainTopics)
        XCTAssertEqual(recordsA, recordsB)
        XCTAssertEqual(a.stats.faultsInjected, b.stats.faultsInjected)
        XCTAssertEqual(Set(a.stats.faultsInjected.keys), DemoFault.all)
    }

    // MARK: Parts

    func testFaultListsParseAndABadNameNamesTheValidOnes() throws {
        XCTAssertEqual(try DemoFault.parseList("all").get(), DemoFault.all)
        XCTAssertEqual(try DemoFault.parseList("none").get(), [])
        XCTAssertEqual(try DemoFault.parseList("duplicates").get(), [.duplicates])
        XCTAssertEqual(try DemoFault.parseList(" schema-drift , Command-Events,fat-events").get(),
                       [.schemaDrift, .commandEvents, .fatEvents])
        XCTAssertEqual(DemoFault.all.count, 4)
        XCTAssertEqual(DemoConfig().faults, DemoFault.all, "on by default")
        for bad in ["dupes", "duplicates,,fat-events", "", "all,duplicates"] {
            guard case .failure(let error) = DemoFault.parseList(bad) else { return XCTFail("\(bad) parsed") }
            let text = error.description
            for name in ["all", "none"] + DemoFault.names { XCTAssertTrue(text.contains(name), "\(text) lacks \(name)") }
        }
        guard case .failure(let error) = DemoFault.parseList("dupes") else { return XCTFail() }
        XCTAssertTrue(error.description.contains("\"dupes\""), error.description)
    }

    func testAnIdempotentConsumerSkipsAnIDHandledElsewhereButRedoesTheSamePlace() throws {
        var ids = HandledEventIDs(capacity: 2)
        let a = HandledEventIDs.Place(topic: "payments", partition: 1, offset: 10)
        let b = HandledEventIDs.Place(topic: "payments", partition: 1, offset: 11)
        XCTAssertFalse(ids.isDuplicate("e-1", at: a))
        ids.handled("e-1", at: a)
        XCTAssertFalse(ids.isDuplicate("e-1", at: a), "read again after a rewind: not a duplicate")
        XCTAssertTrue(ids.isDuplicate("e-1", at: b))
        ids.handled("e-2", at: b)
        ids.handled("e-3", at: b)
        XCTAssertFalse(ids.isDuplicate("e-1", at: b), "forgotten beyond the capacity")
        XCTAssertTrue(ids.isDuplicate("e-3", at: a))

        // Through the rules: inventory-service handles a PaymentAuthorized once per event id.
        var rules = DemoRules(config: DemoConfig(seed: 3, poisonRate: 0), tuning: DemoTuning())
        var stats = DemoStats()
        var codec = DemoEventCodec(seed: 99)
        let out = codec.event(.paymentAuthorized, orderID: "ord-1", fields: ["sku": .string("sku-1"), "quantity": .int(1), "amount": .cents(100)], at: 0)
        func record(_ offset: Int64) -> Record {
            Record(topic: out.topic, partition: 0, offset: offset, timestampMillis: 0, key: out.key, headers: out.headers, value: out.value)
        }
        guard case .handled(let first) = rules.process(record(4), group: DemoGroups.inventoryService, at: 1, stats: &stats) else { return XCTFail() }
        XCTAssertEqual(first.count, 1)
        guard case .ignored = rules.process(record(5), group: DemoGroups.inventoryService, at: 2, stats: &stats) else { return XCTFail("duplicate handled") }
        guard case .handled = rules.process(record(4), group: DemoGroups.inventoryService, at: 3, stats: &stats) else { return XCTFail("redo ignored") }
    }

    func testCommandEventsStayRareAtAHighOrderRate() throws {
        var rules = DemoRules(config: DemoConfig(seed: 4, poisonRate: 0, faults: [.commandEvents]), tuning: DemoTuning())
        var stats = DemoStats()
        var commands: [Int64] = []
        for second in 0..<10 {
            let from = Int64(second) * 1_000
            let placed = rules.placeOrders(from: from, to: from + 1_000, expected: 1_000, stats: &stats)
            commands += placed.filter { DemoEventCodec.eventType(of: Record(topic: $0.topic, partition: 0, offset: 0, timestampMillis: 0,
                                                                            key: nil, headers: $0.headers, value: nil)) == nil }
                .map(\.timestampMillis)
        }
        XCTAssertGreaterThan(stats.ordersPlaced, 9_000)
        XCTAssertTrue((9...10).contains(commands.count), "\(commands.count) command events in 10 s at 1000 orders/s")
        XCTAssertEqual(commands.count, stats.faultsInjected[.commandEvents])
        for (a, b) in zip(commands, commands.dropFirst()) { XCTAssertGreaterThanOrEqual(b - a, 1_000) }
    }

    func testFaultPlanParts() throws {
        XCTAssertEqual((1...25).filter { DemoFaultPlan.isDue($0, first: 5, every: 10) }, [5, 15, 25])
        XCTAssertFalse(DemoFaultPlan.isDue(3, first: 1, every: 0))
        for index in 0..<50 {
            XCTAssertTrue((20_000...30_000).contains(DemoFaultPlan.fatGapMillis(seed: 1, index: index, range: 20...30)))
        }
        let list = DemoFaultPlan.packingList(seed: 1, orderID: "ord-1", bytes: 150_000)
        XCTAssertGreaterThanOrEqual(list.utf8.count, 150_000)
        XCTAssertLessThan(list.utf8.count, 151_000)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]])
        XCTAssertEqual(list, DemoFaultPlan.packingList(seed: 1, orderID: "ord-1", bytes: 150_000))
    }
}
