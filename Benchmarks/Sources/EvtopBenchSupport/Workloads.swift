import Dashboard
import EmbeddedStore
import EventModel
import Foundation
import TerminalUI

/// A deterministic generator (SplitMix64): the same workload on every run.
public struct BenchRandom: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// A broker with many topics whose watermarks advance tick after tick, as a busy cluster's would.
///
/// Topics have 1–12 partitions, every 50th is a dead-letter topic, and 100 consumer groups
/// commit offsets on 5 topics each, so every column of the topics table has work to do.
public struct TopicsWorkload: Sendable {
    /// Topic names, sorted (snapshots list topics by name).
    public let names: [String]
    /// Partition count per topic.
    public let partitionCounts: [Int]
    /// Records per second per partition of each topic.
    public let ratePerPartition: [Int64]
    /// Consumer groups (offsets fixed: only lag changes).
    public let groups: [ConsumerGroup]
    /// Time of tick 0.
    public let start: Date

    /// Total partitions across topics.
    public var partitionTotal: Int { partitionCounts.reduce(0, +) }

    public init(topics: Int = 10_000, groups groupCount: Int = 100, seed: UInt64 = 42,
                start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        var random = BenchRandom(seed: seed)
        let domains = ["orders", "payments", "inventory", "shipping", "billing", "users", "audit", "search"]
        var names: [String] = []
        names.reserveCapacity(topics)
        for i in 0..<topics {
            let domain = domains[i % domains.count]
            var name = "\(domain).events.v\(1 + i % 3).\(String(format: "%05d", i))"
            if i % 50 == 49 { name += ".DLT" }
            names.append(name)
        }
        names.sort()
        self.names = names
        partitionCounts = names.map { _ in random.int(1...12) }
        ratePerPartition = names.map { _ in Int64(random.int(0...400)) }
        var groups: [ConsumerGroup] = []
        for g in 0..<groupCount {
            var offsets: [TopicPartition: Int64] = [:]
            for _ in 0..<5 {
                let t = random.int(0...(names.count - 1))
                for p in 0..<partitionCounts[t] { offsets[TopicPartition(names[t], Int32(p))] = 1_000 }
            }
            groups.append(ConsumerGroup(id: String(format: "group-%03d", g), state: "Stable", members: 3, offsets: offsets))
        }
        self.groups = groups
        self.start = start
    }

    /// The snapshot taken `tick` seconds after `start`.
    public func snapshot(tick: Int) -> BrokerSnapshot {
        var topics: [TopicInfo] = []
        topics.reserveCapacity(names.count)
        let elapsed = Int64(tick)
        for i in names.indices {
            var partitions: [PartitionWatermarks] = []
            partitions.reserveCapacity(partitionCounts[i])
            for p in 0..<partitionCounts[i] {
                // Uneven partitions: the rate varies with the partition number.
                let rate = ratePerPartition[i] * Int64(p % 3 + 1)
                partitions.append(PartitionWatermarks(partition: Int32(p), low: 0, high: 10_000 + rate * elapsed))
            }
            topics.append(TopicInfo(name: names[i], partitions: partitions))
        }
        return BrokerSnapshot(time: start.addingTimeInterval(TimeInterval(tick)), topics: topics, groups: groups)
    }

    /// A dashboard state on the topics screen after `ticks` one-second polls, so 1 s and 10 s rates exist.
    public func state(size: Size = Size(width: 200, height: 60), ticks: Int = 12) -> AppState {
        var state = AppState(source: "sqlite:/tmp/bench.db", now: start, size: size)
        for tick in 0..<ticks {
            Reducer.reduce(&state, .snapshot(snapshot(tick: tick)))
        }
        return state
    }
}

/// Records like the demo's: JSON values of about 200 bytes, a key and three headers.
public enum StoreWorkload {
    /// Topic the store benchmarks write.
    public static let topic = "bench.orders"
    /// Its partition count.
    public static let partitions: Int32 = 8

    /// `count` records starting at sequence number `first`.
    public static func records(first: Int, count: Int, timestampMillis: Int64 = 1_800_000_000_000) -> [OutgoingRecord] {
        (first..<(first + count)).map { n in
            let id = String(format: "%08d", n)
            let value = """
                {"type":"OrderPlaced","orderId":"ord-\(id)","customerId":"cus-\(String(format: "%06d", n % 100_000))",\
                "items":[{"sku":"SKU-\(n % 977)","qty":\(1 + n % 5)}],"amount":\(n % 10_000).\(n % 100),\
                "currency":"EUR","channel":"web","placedAt":"2027-01-15T10:00:00Z","v":1}
                """
            return OutgoingRecord(
                topic: topic, timestampMillis: timestampMillis + Int64(n),
                key: Array("ord-\(id)".utf8),
                headers: [RecordHeader("correlation-id", "corr-\(id)"),
                          RecordHeader("event-type", "OrderPlaced"),
                          RecordHeader("content-type", "application/json")],
                value: Array(value.utf8))
        }
    }

    /// Average value size of the records, in bytes.
    public static func averageValueBytes(_ records: [OutgoingRecord]) -> Int {
        records.isEmpty ? 0 : records.reduce(0) { $0 + ($1.value?.count ?? 0) } / records.count
    }

    /// A fresh store file in a new temporary folder, with the benchmark topic.
    public static func freshStore() async throws -> (SQLiteLog, URL) {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("evtop-bench-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = try SQLiteLog(path: dir.appendingPathComponent("bench.db").path, mode: .readWrite)
        try await log.createTopic(topic, partitions: partitions)
        return (log, dir)
    }

    /// Reads every partition from offset 0, `batch` records per fetch; returns records read.
    public static func readAll(_ log: SQLiteLog, batch: Int = 1_000) async throws -> Int {
        var total = 0
        for p in 0..<partitions {
            var offset: Int64 = 0
            while true {
                let records = try await log.fetch(topic: topic, partition: p, from: offset, maxRecords: batch)
                guard let last = records.last else { break }
                total += records.count
                offset = last.offset + 1
            }
        }
        return total
    }
}

/// Summary statistics of durations.
public struct Stats: Sendable {
    public let samples: [Duration]
    public init(_ samples: [Duration]) { self.samples = samples.sorted() }
    /// Nearest-rank percentile, 0...100.
    public func percentile(_ p: Double) -> Duration {
        guard !samples.isEmpty else { return .zero }
        let rank = Int((p / 100 * Double(samples.count)).rounded(.up))
        return samples[min(samples.count - 1, max(0, rank - 1))]
    }
    public var median: Duration { percentile(50) }
    public var p95: Duration { percentile(95) }
}

extension Duration {
    /// Seconds as a Double.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
    /// Milliseconds as a Double.
    public var milliseconds: Double { seconds * 1_000 }
}

/// Consumer groups at scale for the lag tracker: `groups` groups, each committing on every
/// partition of one of `topics` topics (`partitions` each), every tick, as a busy cluster's would.
///
/// With the defaults: 1,000 groups × 100 partitions = 100,000 group-partition offsets per snapshot,
/// on 50 topics × 100 partitions (20 groups share each topic). Commit times advance every tick (each
/// group commits ~250 ms before the snapshot), watermarks move at 0–400 records/s per partition,
/// and the groups behave differently so that every rule of the evaluator has work to do:
/// `g % 10` 0–3 keep pace with a lag of 500 (OK), 4–5 are caught up (lag 0), 6–7 consume at half
/// the produce rate (lag grows: WARN), 8 catch up from 200,000 behind at 500/s, 9 re-commit the same offset
/// (STALL). Names are ≤ 15 bytes, so they are Swift small strings (no refcounting), as short topic
/// names and group ids would be.
public struct LagWorkload: Sendable {
    /// Topic names, sorted.
    public let topicNames: [String]
    /// Partitions per topic.
    public let partitions: Int
    /// Records per second per partition, `[topic][partition]`.
    public let rates: [[Int64]]
    /// Group ids, sorted.
    public let groupIDs: [String]
    /// Time of tick 0.
    public let start: Date

    /// Group-partition offsets per snapshot.
    public var groupPartitions: Int { groupIDs.count * partitions }

    public init(groups: Int = 1_000, topics: Int = 50, partitions: Int = 100, seed: UInt64 = 7,
                start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        var random = BenchRandom(seed: seed)
        topicNames = (0..<topics).map { String(format: "lag.topic.%03d", $0) }
        self.partitions = partitions
        rates = (0..<topics).map { _ in (0..<partitions).map { _ in Int64(random.int(0...400)) } }
        groupIDs = (0..<groups).map { String(format: "group-%05d", $0) }
        self.start = start
    }

    /// High watermark of a partition at `tick`.
    @inline(__always)
    func high(topic: Int, partition: Int, tick: Int) -> Int64 {
        1_000_000 + rates[topic][partition] * Int64(tick)
    }

    /// The snapshot taken `tick` seconds after `start`.
    public func snapshot(tick: Int) -> BrokerSnapshot {
        let k = Int64(tick)
        var topics: [TopicInfo] = []
        topics.reserveCapacity(topicNames.count)
        for t in topicNames.indices {
            topics.append(TopicInfo(name: topicNames[t], partitions: (0..<partitions).map { p in
                PartitionWatermarks(partition: Int32(p), low: 0, high: high(topic: t, partition: p, tick: tick))
            }))
        }
        let nowMillis = Int64((start.timeIntervalSince1970 + Double(tick)) * 1_000)
        var groups: [ConsumerGroup] = []
        groups.reserveCapacity(groupIDs.count)
        for g in groupIDs.indices {
            let t = g % topicNames.count
            var offsets: [TopicPartition: Int64] = [:]
            var times: [TopicPartition: Int64] = [:]
            offsets.reserveCapacity(partitions)
            times.reserveCapacity(partitions)
            let commitMillis = nowMillis - 250 - Int64(g % 7) * 10
            for p in 0..<partitions {
                let h = high(topic: t, partition: p, tick: tick)
                let rate = rates[t][p]
                let committed: Int64
                switch g % 10 {
                case 0...3: committed = max(0, h - 500)
                case 4...5: committed = h
                case 6...7: committed = 1_000_000 + rate * k / 2
                case 8: committed = h - max(0, 200_000 - 500 * k)
                default: committed = 990_000
                }
                let tp = TopicPartition(topicNames[t], Int32(p))
                offsets[tp] = committed
                times[tp] = commitMillis
            }
            groups.append(ConsumerGroup(id: groupIDs[g], state: "Stable", members: 4,
                                        offsets: offsets, commitTimesMillis: times))
        }
        return BrokerSnapshot(time: start.addingTimeInterval(TimeInterval(tick)), topics: topics, groups: groups)
    }

    /// A tracker that has recorded ticks `0..<ticks` (12 fills the default 10-sample windows).
    public func warmTracker(ticks: Int = 12, configuration: LagTracker.Configuration = .init()) -> LagTracker {
        var tracker = LagTracker(configuration: configuration)
        for tick in 0..<ticks { tracker.record(snapshot(tick: tick)) }
        return tracker
    }

    /// Snapshot time of `tick`.
    public func time(tick: Int) -> Date { start.addingTimeInterval(TimeInterval(tick)) }
}

/// Saga lookups: demo-shaped order sagas (five events each over four topics) in a store, indexed by
/// correlation ID.
public enum SagaWorkload {
    /// Topics and partitions, as the demo lays them out.
    public static let topics: [(String, Int32)] = [("orders", 3), ("payments", 3), ("inventory", 3), ("shipments", 1)]
    /// Event types of one saga, in order, with their topics.
    public static let steps: [(String, String)] = [("OrderPlaced", "orders"), ("PaymentAuthorized", "payments"),
                                                   ("InventoryReserved", "inventory"), ("OrderShipped", "shipments"),
                                                   ("OrderCompleted", "orders")]

    /// The correlation ID of saga `n`.
    public static func id(_ n: Int) -> String { String(format: "ord-%08x", n &* 2_654_435_761 & 0xFFFF_FFFF) }

    /// Records `first..<first+count` of the interleaved stream: sagas overlap in time as in a live system
    /// (saga n's k-th event is record 5n+k, shuffled within windows of 50 sagas).
    public static func records(first: Int, count: Int, start: Int64 = 1_800_000_000_000) -> [OutgoingRecord] {
        (first..<(first + count)).map { i in
            let window = i / 250, within = i % 250
            let saga = window * 50 + within % 50, step = within / 50
            let (type, topic) = steps[step]
            let sid = id(saga)
            let value = #"{"eventType":"\#(type)","correlationId":"\#(sid)","orderId":"\#(sid)","amount":\#(saga % 997).50,"currency":"EUR"}"#
            return OutgoingRecord(topic: topic, timestampMillis: start + Int64(i), key: Array(sid.utf8),
                                  headers: [RecordHeader("correlation-id", sid), RecordHeader("event-type", type),
                                            RecordHeader("content-type", "application/json")],
                                  value: Array(value.utf8))
        }
    }

    /// A fresh store with the saga topics.
    public static func freshStore() async throws -> (SQLiteLog, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-bench-saga-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = try SQLiteLog(path: dir.appendingPathComponent("saga.db").path, mode: .readWrite)
        for (name, partitions) in topics { try await log.createTopic(name, partitions: partitions) }
        return (log, dir)
    }
}

/// Records for the insights benchmark: JSON events like the demo's spread over many topics, a few of
/// them duplicates, a second schema version and command-named types, so every record rule has work.
public enum InsightWorkload {
    static let types = (0..<50).map { i in i % 10 == 9 ? "ProcessStep\(i)" : "Thing\(i)Happened" }

    /// `count` records over `topics`, round robin, with positions and ids that differ from tick to tick.
    public static func records(topics: [String], count: Int, tick: Int) -> [Record] {
        var out: [Record] = []
        out.reserveCapacity(count)
        let base = Int64(tick) * Int64(count)
        for i in 0..<count {
            let n = base + Int64(i)
            let topic = topics[i % topics.count]
            let type = types[i % types.count]
            let version = i % 97 == 0 ? 2 : 1
            // One record in 500 repeats the id of the record before it on its topic.
            let id = i % 500 == 499 ? n - Int64(topics.count) : n
            let value = "{\"eventId\":\"e-\(id)\",\"eventType\":\"\(type)\",\"schemaVersion\":\(version),\"correlationId\":\"ord-\(n / 6)\",\"amount\":\(i % 1000),\"currency\":\"EUR\"}"
            out.append(Record(topic: topic, partition: Int32(i / topics.count % 4), offset: n, timestampMillis: 1_800_000_000_000 + n,
                              key: Array("ord-\(n / 6)".utf8), headers: [RecordHeader("content-type", "application/json")], value: Array(value.utf8)))
        }
        return out
    }
}
