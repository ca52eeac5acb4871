import XCTest
import Foundation
import EventModel
@testable import Simulator

/// One simulated run on an InMemoryLog whose clock follows simulated time.
struct SimRun: Sendable {
    struct Sample: Sendable {
        var seconds: Double
        var snapshot: BrokerSnapshot
    }

    let log: InMemoryLog
    let samples: [Sample]
    let stats: DemoStats

    static let start = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28

    /// `faults` defaults to none: the tests of the saga, lag and dead letters are about the demo without
    /// its injected design faults (DemoFaultsTests covers those, with and without).
    static func simulate(seed: UInt64, seconds: Int, rate: Double = 20, faults: Set<DemoFault> = []) async throws -> SimRun {
        let clock = ManualClock(start)
        let log = InMemoryLog(now: { clock.now() })
        let system = DemoSystem(log: log, config: DemoConfig(rate: rate, seed: seed, poisonRate: 0.01, faults: faults))
        try await system.setUp()
        try await system.advance(to: start)
        var samples: [Sample] = []
        for step in 1...(seconds * 10) {
            let now = start.addingTimeInterval(Double(step) / 10)
            clock.set(now)
            try await system.advance(to: now)
            if step % 10 == 0 {
                samples.append(Sample(seconds: Double(step) / 10, snapshot: try await log.snapshot()))
            }
        }
        return SimRun(log: log, samples: samples, stats: await system.stats)
    }

    /// All records of the given topics.
    func records(_ topics: [String]) async throws -> [Record] {
        var all: [Record] = []
        for topic in topics { all += try await log.records(in: topic) }
        return all
    }

    /// High watermark minus committed offset, summed over the topic's partitions (optionally one).
    static func lag(_ snapshot: BrokerSnapshot, group: String, topic: String, partition: Int32? = nil) -> Int64 {
        guard let info = snapshot.topics.first(where: { $0.name == topic }) else { return 0 }
        let offsets = snapshot.groups.first { $0.id == group }?.offsets ?? [:]
        return info.partitions.filter { partition == nil || $0.partition == partition }.reduce(0) {
            $0 + max(0, $1.high - (offsets[TopicPartition(topic, $1.partition)] ?? $1.low))
        }
    }
}

/// Shares the expensive 120 s run between tests.
actor RunCache {
    static let shared = RunCache()
    private struct Key: Hashable {
        var seed: UInt64
        var seconds: Int
        var rate: Double
        var faults: Set<DemoFault>
    }
    private var tasks: [Key: Task<SimRun, Error>] = [:]

    func run(seed: UInt64, seconds: Int, rate: Double = 20, faults: Set<DemoFault> = []) async throws -> SimRun {
        let key = Key(seed: seed, seconds: seconds, rate: rate, faults: faults)
        if let task = tasks[key] { return try await task.value }
        let task = Task { try await SimRun.simulate(seed: seed, seconds: seconds, rate: rate, faults: faults) }
        tasks[key] = task
        return try await task.value
    }
}

final class DemoSystemTests: XCTestCase {
    private let mainTopics = [DemoTopics.orders, DemoTopics.payments, DemoTopics.inventory, DemoTopics.shipments]

    private func standardRun() async throws -> SimRun {
        try await RunCache.shared.run(seed: 2026, seconds: 120)
    }

    private struct Payload: Decodable {
        var correlationId: String?
        var orderId: String?
        var eventId: String?
        var eventType: String?
        var schemaVersion: Int?
        var timestamp: String?
    }

    private func payload(_ record: Record) -> Payload? {
        guard let value = record.value else { return nil }
        return try? JSONDecoder().decode(Payload.self, from: Data(value))
    }

    func testTopicsAreCreatedWithTheirPartitions() async throws {
        let run = try await standardRun()
        let topics = run.samples.last?.snapshot.topics ?? []
        XCTAssertEqual(topics.map(\.name), DemoTopics.layout.map(\.name).sorted())
        for expected in DemoTopics.layout {
            XCTAssertEqual(topics.first { $0.name == expected.name }?.partitions.count, Int(expected.partitions))
        }
        XCTAssertEqual(run.samples.last?.snapshot.groups.map(\.id), DemoGroups.all.sorted())
    }

    func testEveryEventTypeAppears() async throws {
        let run = try await standardRun()
        let records = try await run.records(mainTopics)
        let seen = Set(records.compactMap { $0.header("event-type")?.utf8Value })
        for type in DemoEventType.allCases {
            XCTAssertTrue(seen.contains(type.rawValue), "\(type.rawValue) never produced")
            let sample = records.first { $0.header("event-type")?.utf8Value == type.rawValue }
            XCTAssertEqual(sample?.topic, type.topic)
        }
        XCTAssertEqual(run.stats.eventsProduced, records.count + run.stats.deadLettered)
        XCTAssertGreaterThan(run.stats.ordersCompleted, 0)
        XCTAssertGreaterThan(run.stats.ordersCancelled, 0)
    }

    func testCorrelationIDsMatchPayloadAndEventIDsAreUnique() async throws {
        let run = try await standardRun()
        let records = try await run.records(mainTopics)
        var eventIDs = Set<String>()
        var parsed = 0
        for r in records {
            guard let correlation = r.header("correlation-id")?.utf8Value,
                  let eventID = r.header("event-id")?.utf8Value else {
                return XCTFail("record \(r.topic)/\(r.partition)/\(r.offset) lacks headers")
            }
            XCTAssertTrue(eventIDs.insert(eventID).inserted, "duplicate event id \(eventID)")
            XCTAssertEqual(r.key, Array(correlation.utf8))
            XCTAssertEqual(r.header("content-type")?.utf8Value, "application/json")
            XCTAssertNotNil(r.header("traceparent")?.utf8Value?.hasPrefix("00-"))
            guard let p = payload(r) else { continue }  // hostile poison values are not JSON
            parsed += 1
            XCTAssertEqual(p.correlationId, correlation)
            XCTAssertEqual(p.orderId, correlation)
            XCTAssertEqual(p.eventId, eventID)
            XCTAssertEqual(p.eventType, r.header("event-type")?.utf8Value)
            XCTAssertEqual(p.schemaVersion.map(String.init), r.header("schema-version")?.utf8Value)
            XCTAssertEqual(p.timestamp?.hasPrefix("2026-"), true)
            XCTAssertEqual(p.timestamp?.hasSuffix("Z"), true)
        }
        XCTAssertGreaterThan(parsed, records.count * 99 / 100)
        // One order stays in one partition of each topic.
        var partitionOf: [String: Int32] = [:]
        for r in records where r.topic == DemoTopics.payments {
            let key = String(decoding: r.key ?? [], as: UTF8.self)
            if let p = partitionOf[key] { XCTAssertEqual(p, r.partition) }
            partitionOf[key] = r.partition
        }
    }

    func testDeadLettersCarrySpringHeaders() async throws {
        let run = try await standardRun()
        let dlts = try await run.records([DemoTopics.ordersDLT, DemoTopics.paymentsDLT])
        let ordersDLT = try await run.log.records(in: DemoTopics.ordersDLT)
        let paymentsDLT = try await run.log.records(in: DemoTopics.paymentsDLT)
        XCTAssertFalse(ordersDLT.isEmpty)
        XCTAssertFalse(paymentsDLT.isEmpty)
        XCTAssertEqual(dlts.count, run.stats.deadLettered)
        var sawInvalidUTF8 = false, sawEscape = false
        for d in dlts {
            guard let topic = d.header("kafka_dlt-original-topic")?.utf8Value,
                  let partitionBytes = d.header("kafka_dlt-original-partition")?.value,
                  let offsetBytes = d.header("kafka_dlt-original-offset")?.value,
                  let timestampBytes = d.header("kafka_dlt-original-timestamp")?.value else {
                return XCTFail("missing kafka_dlt-original-* headers")
            }
            XCTAssertEqual(d.topic, topic + ".DLT")
            XCTAssertEqual(partitionBytes.count, 4)
            XCTAssertEqual(offsetBytes.count, 8)
            XCTAssertEqual(timestampBytes.count, 8)
            let partition = Int32(bitPattern: UInt32(bigEndian: partitionBytes))
            let offset = Int64(bitPattern: UInt64(bigEndian: offsetBytes))
            let timestamp = Int64(bitPattern: UInt64(bigEndian: timestampBytes))
            let original = try await run.log.fetch(topic: topic, partition: partition, from: offset, maxRecords: 1).first
            XCTAssertEqual(original?.offset, offset, "original offset must exist on \(topic)")
            XCTAssertEqual(original?.value, d.value)
            XCTAssertEqual(original?.key, d.key)
            XCTAssertEqual(original?.timestampMillis, timestamp)
            XCTAssertEqual(original?.header("event-id"), d.header("event-id"))
            XCTAssertGreaterThan(d.timestampMillis, timestamp, "dead-lettered after the retries")
            let group = d.header("kafka_dlt-original-consumer-group")?.utf8Value
            XCTAssertEqual(group, topic == DemoTopics.orders ? DemoGroups.paymentService : DemoGroups.inventoryService)
            XCTAssertEqual(d.header("kafka_dlt-exception-fqcn")?.utf8Value,
                           "org.springframework.kafka.listener.ListenerExecutionFailedException")
            XCTAssertNotNil(d.header("kafka_dlt-exception-cause-fqcn")?.utf8Value?.contains("."))
            XCTAssertFalse(d.header("kafka_dlt-exception-message")?.utf8Value?.isEmpty ?? true)
            let trace = d.header("kafka_dlt-exception-stacktrace")?.utf8Value ?? ""
            XCTAssertTrue(trace.contains("\n\tat ") && trace.contains("Caused by: "), trace)
            if let v = d.value {
                if String(validating: v, as: UTF8.self) == nil { sawInvalidUTF8 = true }
                if v.contains(0x1B) { sawEscape = true }
            }
        }
        XCTAssertTrue(sawInvalidUTF8, "a dead letter with invalid UTF-8")
        XCTAssertTrue(sawEscape, "a dead letter with an ANSI escape")
        let messages = Set(dlts.compactMap { $0.header("kafka_dlt-exception-message")?.utf8Value })
        XCTAssertTrue(messages.contains { $0.hasSuffix("not found in catalog") }, "\(messages)")
        XCTAssertGreaterThanOrEqual(run.stats.retries, 3 * run.stats.deadLettered, "3 retries before each dead letter")
    }

    func testSlowConsumerLagGrowsAndRecovers() async throws {
        let run = try await standardRun()
        let lags = run.samples.map {
            SimRun.lag($0.snapshot, group: DemoGroups.shippingService, topic: DemoTopics.inventory)
        }
        guard let peak = lags.max(), let peakIndex = lags.firstIndex(of: peak) else { return XCTFail("no samples") }
        XCTAssertGreaterThan(peak, 30, "shipping-service should fall behind at peak traffic: \(lags)")
        XCTAssertTrue(lags[peakIndex...].contains { $0 < peak / 3 }, "and catch up in a lull: \(lags)")
        // Fast groups stay close to the log end outside stalls.
        let paymentLag = run.samples.map { SimRun.lag($0.snapshot, group: DemoGroups.paymentService, topic: DemoTopics.orders) }
        XCTAssertLessThan(paymentLag.max() ?? 0, peak)
    }

    func testStalledGroupStopsCommittingWhileLagging() async throws {
        let run = try await standardRun()
        var longest = 0.0
        for partition: Int32 in 0..<3 {
            let tp = TopicPartition(DemoTopics.payments, partition)
            var since: (seconds: Double, commit: Int64)?
            for s in run.samples {
                guard let g = s.snapshot.groups.first(where: { $0.id == DemoGroups.inventoryService }),
                      let commit = g.commitTimesMillis[tp] else { continue }
                let lag = SimRun.lag(s.snapshot, group: g.id, topic: tp.topic, partition: partition)
                if let open = since, open.commit == commit, lag > 0 {
                    longest = max(longest, s.seconds - open.seconds)
                    XCTAssertEqual(g.members, 2, "stalled members keep heartbeating")
                } else {
                    since = lag > 0 ? (s.seconds, commit) : nil
                }
            }
        }
        XCTAssertGreaterThanOrEqual(longest, 15, "inventory-service should stall with lag > 0")
    }

    func testSameSeedSameRecordsDifferentSeedDifferent() async throws {
        let a = try await SimRun.simulate(seed: 7, seconds: 20)
        let b = try await SimRun.simulate(seed: 7, seconds: 20)
        let c = try await SimRun.simulate(seed: 8, seconds: 20)
        let topics = DemoTopics.layout.map(\.name)
        let ra = try await a.records(topics), rb = try await b.records(topics), rc = try await c.records(topics)
        XCTAssertGreaterThan(ra.count, 100)
        XCTAssertEqual(ra.map(\.value), rb.map(\.value))
        XCTAssertEqual(ra, rb)
        XCTAssertEqual(a.stats, b.stats)
        XCTAssertNotEqual(ra.map(\.value), rc.map(\.value))
    }

    func testAdvanceBeforeSetUpThrowsAndLongPausesAreCapped() async throws {
        let log = InMemoryLog()
        let system = DemoSystem(log: log, config: DemoConfig(rate: 50, seed: 1))
        do {
            try await system.advance(to: SimRun.start)
            XCTFail("expected notSetUp")
        } catch let error as DemoError {
            XCTAssertEqual(error, .notSetUp)
        }
        try await system.setUp()
        try await system.setUp()  // idempotent
        try await system.advance(to: SimRun.start)
        try await system.advance(to: SimRun.start.addingTimeInterval(3_600))
        let stats = await system.stats
        XCTAssertEqual(stats.skippedSeconds, 3_595, accuracy: 0.001)
        XCTAssertEqual(stats.simulatedSeconds, 3_600, accuracy: 0.001)
        XCTAssertLessThan(stats.ordersPlaced, 50 * 5 * 4, "only the last 5 s were simulated")
        XCTAssertGreaterThan(stats.ordersPlaced, 0)
    }

    func testRunStopsAfterDuration() async throws {
        let log = InMemoryLog()
        // Without faults: the command-named events of `command-events` would share the orders topic.
        let system = DemoSystem(log: log, config: DemoConfig(rate: 100, seed: 3, duration: 0.3, faults: []))
        try await system.run()
        let placed = await system.stats.ordersPlaced
        XCTAssertGreaterThan(placed, 0)
        let high = try await log.snapshot().topics.first { $0.name == "orders" }?.totalHigh
        XCTAssertEqual(high.map(Int.init), placed)
    }

    func testRunReturnsWhenCancelled() async throws {
        let system = DemoSystem(log: InMemoryLog(), config: DemoConfig(rate: 10, seed: 3))
        let task = Task { try await system.run() }
        try await Task.sleep(for: .milliseconds(150))
        task.cancel()
        try await task.value
    }

    func testSagaDefinitionNamesStepsEventsAndTimeout() {
        let yaml = DemoSystem.orderSagaYAML
        XCTAssertTrue(yaml.contains("name: OrderSaga"))
        XCTAssertTrue(yaml.contains("timeout: 30s"))
        for type in DemoEventType.allCases {
            XCTAssertTrue(yaml.contains(type.rawValue), type.rawValue)
        }
        XCTAssertFalse(yaml.contains("\t"), "YAML must not contain tabs")
    }

    func testEncodingHelpers() {
        XCTAssertEqual(TimeText.iso8601(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(TimeText.iso8601(millis: 1_780_000_000_123), "2026-05-28T20:26:40.123Z")
        XCTAssertEqual(TimeText.iso8601(millis: 951_782_400_000), "2000-02-29T00:00:00.000Z")
        XCTAssertEqual(JSONText.object(["b": .int(1), "a": .string("x\"\u{1b}"), "c": .cents(4205), "d": .cents(-7)]),
                       #"{"a":"x\"\u001b","b":1,"c":42.05,"d":-0.07}"#)
        XCTAssertNil(UTF8Check.firstInvalid(Array("héllo ✓ 😀".utf8)))
        XCTAssertEqual(UTF8Check.firstInvalid([0x41, 0xC3, 0x28])?.index, 2)
        XCTAssertEqual(UTF8Check.firstInvalid([0x41, 0xFF])?.index, 1)
        XCTAssertEqual(UTF8Check.firstInvalid([0xE2, 0x82])?.index, 2)
        XCTAssertEqual(Int32(7).bigEndianBytes, [0, 0, 0, 7])
        XCTAssertEqual(Int64(258).bigEndianBytes, [0, 0, 0, 0, 0, 0, 1, 2])
    }
}

private extension FixedWidthInteger {
    /// Decodes big-endian bytes of exactly this width.
    init(bigEndian bytes: [UInt8]) {
        self = bytes.reduce(0) { ($0 << 8) | Self($1) }
    }
}

extension DemoSystemTests {
    func testStatsAgreeWithTheLog() async throws {
        let run = try await standardRun()
        let records = try await run.records(mainTopics)
        var byType: [String: Int] = [:]
        for r in records { byType[r.header("event-type")?.utf8Value ?? "?", default: 0] += 1 }
        XCTAssertEqual(run.stats.eventsByType, byType)
        XCTAssertEqual(run.stats.ordersPlaced, byType["OrderPlaced"])
        XCTAssertEqual(run.stats.ordersCancelled, byType["OrderCancelled"])
        XCTAssertEqual(run.stats.simulatedSeconds, 120, accuracy: 0.001)
    }
}
