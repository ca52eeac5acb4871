import Foundation
import XCTest
import KafkaLog
import EventModel

/// KafkaLog against librdkafka's mock cluster (3 brokers, real Kafka protocol on loopback),
/// with kcat as the independent client on the other side.
final class KafkaLogTests: XCTestCase {
    /// Mock clusters live as long as the test (a cluster dropped early would close its brokers).
    private var clusters: [KafkaMockCluster] = []

    private func makeCluster(groups: [String] = []) throws -> (KafkaMockCluster, KafkaLog) {
        let made = try makeMockCluster(groups: groups)
        clusters.append(made.0)
        return made
    }

    func testMetadataWatermarksAndThroughputOfWhatKcatProduced() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("orders", partitions: 6)
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: (0..<30).map { "{\"order\":\($0)}" }, key: "k1")
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: (0..<12).map { "{\"order\":\($0)}" }, partition: 4)
        let first = try await log.snapshot()
        let orders = try XCTUnwrap(first.topics.first { $0.name == "orders" })
        XCTAssertEqual(orders.partitions.map(\.partition), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(orders.totalHigh, 42)
        XCTAssertEqual(orders.partitions[4].high, 12 + (orders.partitions[4].high == 42 ? 30 : 0))
        XCTAssertEqual(orders.partitions.filter { $0.high > 0 }.count <= 2, true)
        for p in orders.partitions {
            XCTAssertNotNil(p.leader)
            XCTAssertEqual(p.replicas?.count, 3)
            XCTAssertEqual(p.inSyncReplicas?.count, 3)
            XCTAssertEqual(p.low, 0)
        }
        // Throughput: what is produced between two snapshots shows as the difference of the totals.
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: (0..<25).map { "x\($0)" })
        let second = try await log.snapshot()
        let later = try XCTUnwrap(second.topics.first { $0.name == "orders" })
        XCTAssertEqual(later.totalHigh - orders.totalHigh, 25)
        let meter = ThroughputMeter()
        _ = meter
    }

    func testLagOfAGroupThatKcatCommitted() async throws {
        let (cluster, log) = try makeCluster(groups: ["billing"])
        try cluster.createTopic("payments", partitions: 3)
        for p in Int32(0)..<3 {
            try kcatProduce(cluster.bootstrap, topic: "payments", lines: (0..<10).map { "p\(p)-\($0)" }, partition: p)
        }
        // kcat's balanced consumer reads everything and commits on exit.
        let consumed = try kcat(["-G", "billing", "-b", cluster.bootstrap, "-e", "-q", "-o", "beginning",
                                 "-X", "auto.offset.reset=earliest", "payments"])
        XCTAssertEqual(consumed.status, 0, consumed.stderr)
        XCTAssertEqual(consumed.text.split(separator: "\n").count, 30)
        try kcatProduce(cluster.bootstrap, topic: "payments", lines: (0..<7).map { "late\($0)" }, partition: 1)

        let snapshot = try await log.snapshot()
        let group = try XCTUnwrap(snapshot.groups.first { $0.id == "billing" })
        XCTAssertEqual(group.offsets[TopicPartition("payments", 0)], 10)
        XCTAssertEqual(group.offsets[TopicPartition("payments", 1)], 10)
        XCTAssertEqual(group.offsets[TopicPartition("payments", 2)], 10)
        let payments = try XCTUnwrap(snapshot.topics.first { $0.name == "payments" })
        let lag = payments.partitions.reduce(Int64(0)) { $0 + $1.high - (group.offsets[TopicPartition("payments", $1.partition)] ?? 0) }
        XCTAssertEqual(lag, 7)
    }

    func testDeadLettersOfADLTTopicWithSpringHeaders() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("orders.DLT", partitions: 2)
        try kcatProduce(cluster.bootstrap, topic: "orders.DLT", lines: ["{\"order\":\"A-1\"}", "{\"order\":\"A-2\"}"], key: "A",
                        headers: ["kafka_dlt-original-topic=orders", "kafka_dlt-original-partition=3",
                                  "kafka_dlt-original-offset=1234", "kafka_dlt-original-consumer-group=fulfilment",
                                  "kafka_dlt-exception-fqcn=java.lang.IllegalStateException",
                                  "kafka_dlt-exception-message=stock went negative"], partition: 1)
        let snapshot = try await log.snapshot()
        let dlt = try XCTUnwrap(snapshot.topics.first { $0.name == "orders.DLT" })
        XCTAssertEqual(dlt.retained, 2)
        let records = try await log.fetch(topic: "orders.DLT", partition: 1, from: 0, maxRecords: 100)
        XCTAssertEqual(records.map(\.offset), [0, 1])
        let letters = records.map(DeadLetterParser.parse)
        for letter in letters {
            XCTAssertEqual(letter.convention, .springKafka)
            XCTAssertEqual(letter.originalTopic, "orders")
            XCTAssertEqual(letter.originalPartition, 3)
            XCTAssertEqual(letter.originalOffset, 1234)
            XCTAssertEqual(letter.consumerGroup, "fulfilment")
            XCTAssertEqual(letter.exceptionClass, "java.lang.IllegalStateException")
            XCTAssertEqual(letter.exceptionMessage, "stock went negative")
            XCTAssertEqual(letter.record.key, Array("A".utf8))
        }
        // Reading on from where the last read stopped, and past the end.
        let rest = try await log.fetch(topic: "orders.DLT", partition: 1, from: 1, maxRecords: 10)
        XCTAssertEqual(rest.map(\.offset), [1])
        let none = try await log.fetch(topic: "orders.DLT", partition: 1, from: 2, maxRecords: 10)
        XCTAssertEqual(none, [])
    }

    func testProducedRecordsReadBackByKcatExactlyOnceWithHeadersIntact() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("redriven", partitions: 4)
        // kcat prints header values with printf (a NUL would end them): NUL is checked through evtop's reader below.
        let binary: [UInt8] = [0xFF, 0x80, 0x01, 0x7F, 0xC3]
        let withNul: [UInt8] = [0x00, 0x01, 0x00]
        func record(_ i: Int) -> OutgoingRecord {
            var headers: [RecordHeader] = [RecordHeader("evtop-redrive-id", "r-\(i)"), RecordHeader(name: "bin", value: binary)]
            headers += [RecordHeader("dup", "a"), RecordHeader("dup", "b"), RecordHeader(name: "empty", value: [])]
            if i == 0 { headers.append(RecordHeader(name: "nul", value: withNul)) }
            let value = "{\"n\":\(i)}"
            return OutgoingRecord(topic: "redriven", partition: Int32(i % 4), timestampMillis: 1_700_000_000_000 + Int64(i),
                                  key: Array("key-\(i)".utf8), headers: headers, value: Array(value.utf8))
        }
        let records = (0..<200).map(record)
        let positions = try await log.produce(records)
        XCTAssertEqual(positions.count, 200)
        XCTAssertEqual(Set(positions).count, 200)
        for (i, p) in positions.enumerated() {
            XCTAssertEqual(p.partition, Int32(i % 4))
            XCTAssertEqual(p.offset, Int64(i / 4))
        }
        // kcat reads every record exactly once, at the positions the delivery reports gave.
        let read = try kcat(["-C", "-b", cluster.bootstrap, "-t", "redriven", "-e", "-q", "-o", "beginning",
                             "-f", "%p %o %k %s|%h\\n"])
        XCTAssertEqual(read.status, 0, read.stderr)
        let lines = read.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 200)
        var seen = Set<String>()
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            XCTAssertEqual(parts.count, 4)
            guard parts.count == 4, let n = Int(parts[2].dropFirst("key-".count)) else { continue }
            XCTAssertTrue(seen.insert(parts[2]).inserted, "read twice: \(line)")
            XCTAssertEqual(parts[0], String(n % 4))
            XCTAssertEqual(parts[1], String(n / 4))
            XCTAssertTrue(parts[3].hasPrefix("{\"n\":\(n)}|evtop-redrive-id=r-\(n),bin="), line)
            XCTAssertTrue(parts[3].hasSuffix(",dup=a,dup=b,empty=") || n == 0, line)
        }
        // Header bytes byte for byte (kcat's %h prints raw bytes).
        let raw = try kcat(["-C", "-b", cluster.bootstrap, "-t", "redriven", "-p", "0", "-o", "0", "-c", "1", "-e", "-q", "-f", "%h"])
        let bytes = Array(raw.stdout)
        let marker = Array("bin=".utf8)
        let at = try XCTUnwrap((0...(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
        XCTAssertEqual(Array(bytes[(at + marker.count)..<(at + marker.count + binary.count)]), binary)
        // And evtop's own reader sees them the same way, empty header value included.
        let back = try await log.fetch(topic: "redriven", partition: 0, from: 0, maxRecords: 1)
        XCTAssertEqual(back.first?.headers, records[0].headers)
        XCTAssertEqual(back.first?.timestampMillis, records[0].timestampMillis)
    }

    func testProduceThroughBrokerOutagesAndRequestErrorsLosesAndDuplicatesNothing() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("redrive", partitions: 3)
        _ = try await log.snapshot()
        var all: [RecordPosition] = []
        for batch in 0..<10 {
            switch batch {
            case 2: cluster.pushRequestErrors(apiKey: 0, count: 5, error: 7)   // Produce: REQUEST_TIMED_OUT
            case 4: cluster.pushRequestErrors(apiKey: 0, count: 3, error: 19)  // NOT_ENOUGH_REPLICAS
            case 5: cluster.setBroker(1, up: false); cluster.setBroker(2, up: false)
            case 7: cluster.setBroker(1, up: true); cluster.setBroker(2, up: true)
            default: break
            }
            let records = (0..<100).map { i in
                OutgoingRecord(topic: "redrive", timestampMillis: 0, key: Array("k\(batch)-\(i)".utf8), value: Array("v\(batch)-\(i)".utf8))
            }
            if batch == 5 {
                // Brokers come back while this batch waits for its delivery reports: it pauses, then completes.
                Task { try await Task.sleep(for: .seconds(2)); cluster.setBroker(1, up: true); cluster.setBroker(2, up: true) }
            }
            all += try await log.produce(records)
        }
        XCTAssertEqual(all.count, 1000)
        XCTAssertEqual(Set(all).count, 1000)
        XCTAssertEqual(all.filter { $0.offset < 0 }, [], "a delivery report without an offset")
        let read = try kcat(["-C", "-b", cluster.bootstrap, "-t", "redrive", "-e", "-q", "-o", "beginning", "-f", "%s\\n"])
        let values = read.text.split(separator: "\n")
        XCTAssertEqual(values.count, 1000, "lost or duplicated records")
        XCTAssertEqual(Set(values).count, 1000)
        let snapshot = try await log.snapshot()
        XCTAssertEqual(snapshot.topics.first { $0.name == "redrive" }?.totalHigh, 1000)
    }

    func testAPartitionWhoseLeaderIsDownKeepsItsLastFiguresAndRecovers() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("events", partitions: 3)
        for p in Int32(0)..<3 { cluster.setLeader(topic: "events", partition: p, leader: p + 1) }
        for p in Int32(0)..<3 {
            try kcatProduce(cluster.bootstrap, topic: "events", lines: (0..<(5 * Int(p + 1))).map { "e\($0)" }, partition: p)
        }
        let before = try await log.snapshot().topics.first { $0.name == "events" }
        XCTAssertEqual(before?.partitions.map(\.high), [5, 10, 15])
        cluster.setBroker(3, up: false)  // leader of partition 2
        try kcatProduce(cluster.bootstrap, topic: "events", lines: ["x", "y"], partition: 0)
        let during = try await log.snapshot().topics.first { $0.name == "events" }
        XCTAssertEqual(during?.partitions.map(\.high), [7, 10, 15], "partition 2 keeps its last known figures")
        cluster.setBroker(3, up: true)
        let after = try await eventually { () async throws -> TopicInfo? in
            let t = try await log.snapshot().topics.first { $0.name == "events" }
            return t?.partitions.map(\.high) == [7, 10, 15] && t?.partitions[2].leader == 3 ? t : nil
        }
        XCTAssertNotNil(after)
    }

    func testSnapshotSaysWhichBrokersAreDown() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("spread", partitions: 3)
        for p in Int32(0)..<3 { cluster.setLeader(topic: "spread", partition: p, leader: p + 1) }
        let all = try await eventually { () async throws -> BrokerAvailability? in
            let b = try await log.snapshot().brokers
            return b?.down == [] && b?.total == 3 ? b : nil
        }
        XCTAssertEqual(all?.up, 3)
        // The mock cluster names no broker of its own as controller (it says 0): then none is shown, never
        // a made-up broker; a real cluster names one of its brokers.
        if let controller = all?.controller { XCTAssertTrue((1...3).contains(controller), "\(controller)") }
        cluster.setBroker(2, up: false)
        let partial = try await log.snapshot().brokers
        XCTAssertEqual(partial?.total, 3)
        XCTAssertEqual(partial?.down, [2])
        XCTAssertEqual(partial?.isPartial, true)
        cluster.setBroker(2, up: true)
        let back = try await eventually { () async throws -> BrokerAvailability? in
            let b = try await log.snapshot().brokers
            return b?.down == [] ? b : nil
        }
        XCTAssertEqual(back?.total, 3)
    }

    func testABrokerGoneFromTheMetadataCountsAsDown() {
        // A real cluster drops a dead broker from its metadata and moves its leaderships away.
        XCTAssertEqual(KafkaLog.availability(known: [], listed: [1, 2, 3], silentLeaders: []),
                       BrokerAvailability(total: 3, down: []))
        XCTAssertEqual(KafkaLog.availability(known: [1, 2, 3], listed: [1, 3], silentLeaders: []),
                       BrokerAvailability(total: 3, down: [2]))
        XCTAssertEqual(KafkaLog.availability(known: [1, 2, 3], listed: [1, 3], silentLeaders: [3]),
                       BrokerAvailability(total: 3, down: [2, 3]))
        XCTAssertEqual(KafkaLog.availability(known: [1, 2, 3], listed: [1, 2, 3, 4], silentLeaders: []),
                       BrokerAvailability(total: 4, down: []))
    }

    func testMockTopicsSpreadTheirLeadersOverTheBrokers() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("spread", partitions: 5)
        let topic = try await log.watermarks(topic: "spread")
        XCTAssertEqual(topic.partitions.map(\.leader), [1, 2, 3, 1, 2])
    }

    func testBulkReadReadsEveryRangeOfSeveralTopicsOnceAndSaysWhereToGoOn() async throws {
        let (cluster, log) = try makeCluster()
        try cluster.createTopic("index-me", partitions: 5)
        try cluster.createTopic("index-too", partitions: 2)
        for p in Int32(0)..<5 {
            try kcatProduce(cluster.bootstrap, topic: "index-me", lines: (0..<(60 + Int(p))).map { "{\"p\":\(p),\"n\":\($0)}" }, partition: p)
        }
        for p in Int32(0)..<2 {
            try kcatProduce(cluster.bootstrap, topic: "index-too", lines: (0..<30).map { "t\(p)-\($0)" }, partition: p)
        }
        let me = try await log.watermarks(topic: "index-me").partitions
        // Whole partitions of one topic, a middle stretch of another's, and an empty range.
        var ranges = me.map { ReadRange(TopicPartition("index-me", $0.partition), from: $0.low, to: $0.high) }
        ranges.append(ReadRange(TopicPartition("index-too", 0), from: 10, to: 20))
        ranges.append(ReadRange(TopicPartition("index-too", 1), from: 5, to: 5))
        let seen = LockedRecords()
        let ends = Locked<[TopicPartition: Int64]>([:])
        let finished = Locked<[TopicPartition]>([])
        try await log.readRanges(ranges) { batch in
            seen.append(batch.records)
            ends.withLock { e in for (tp, n) in batch.next { e[tp] = n } }
            finished.withLock { $0 += batch.finished }
            return true
        }
        let values = seen.all.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(values.count, 310 + 10)
        XCTAssertEqual(Set(values).count, 320)
        XCTAssertTrue(values.contains("{\"p\":4,\"n\":63}"))
        XCTAssertEqual(Set(values.filter { $0.hasPrefix("t0-") }), Set((10..<20).map { "t0-\($0)" }))
        XCTAssertFalse(values.contains { $0.hasPrefix("t1-") })
        XCTAssertEqual(ends.withLock { $0 }[TopicPartition("index-too", 0)], 20)
        XCTAssertEqual(ends.withLock { $0 }[TopicPartition("index-me", 4)], 64)
        XCTAssertEqual(Set(finished.withLock { $0 }), Set(me.map { TopicPartition("index-me", $0.partition) } + [TopicPartition("index-too", 0)]))
        // Per partition, in offset order.
        for p in Int32(0)..<5 {
            let offsets = seen.all.filter { $0.topic == "index-me" && $0.partition == p }.map(\.offset)
            XCTAssertEqual(offsets, Array(0..<Int64(60 + Int(p))))
        }
        // The same reader again (one consumer for the session): a second read sees nothing of the first.
        let again = LockedRecords()
        try await log.readRanges([ReadRange(TopicPartition("index-me", 2), from: 50, to: 62)]) { again.append($0.records); return true }
        XCTAssertEqual(again.all.map(\.offset), Array(50..<62))
    }

    func testAnUnreachableBrokerIsAClearError() async throws {
        let log = try KafkaLog(settings: KafkaSettings(bootstrap: ["127.0.0.1:1"], requestTimeout: .seconds(3)))
        do {
            _ = try await log.snapshot()
            XCTFail("a snapshot from nowhere")
        } catch let error as BrokerError {
            guard case .unavailable(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("127.0.0.1:1"), why)
        }
        let unresolvable = try KafkaLog(settings: KafkaSettings(bootstrap: ["no-such-host.invalid:9092"], requestTimeout: .seconds(3)))
        do {
            _ = try await unresolvable.snapshot()
            XCTFail("a snapshot from an unresolvable host")
        } catch let error as BrokerError {
            XCTAssertTrue(error.description.contains("no-such-host.invalid:9092"), error.description)
        }
    }

    func testABadPropertyIsRefusedWithoutShowingASecret() throws {
        XCTAssertThrowsError(try KafkaLog(settings: KafkaSettings(bootstrap: ["localhost:9092"], properties: ["no.such.property": "1"]))) { error in
            XCTAssertTrue("\(error)".contains("no.such.property"), "\(error)")
        }
        XCTAssertThrowsError(try KafkaLog(settings: KafkaSettings(bootstrap: ["localhost:9092"],
                                                                  properties: ["security.protocol": "bogus", "sasl.password": "hunter2"]))) { error in
            XCTAssertTrue("\(error)".contains("security.protocol"), "\(error)")
            XCTAssertFalse("\(error)".contains("hunter2"), "\(error)")
        }
        XCTAssertEqual(KafkaSecrets.scrub("Invalid value \"hunter2\" for sasl.password", properties: ["sasl.password": "hunter2"]),
                       "Invalid value \"***\" for sasl.password")
        let settings = KafkaSettings(bootstrap: ["b1:9093"], properties: ["security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.username": "ops",
                                                                          "sasl.password": "hunter2", "ssl.key.password": "k3y"])
        let log = try KafkaLog(settings: settings)
        XCTAssertEqual(log.sourceDescription, "kafka://b1:9093 (sasl_ssl)")
        let shown = KafkaSecrets.redacted(settings.properties).joined(separator: " ")
        XCTAssertFalse(shown.contains("hunter2") || shown.contains("k3y"), shown)
        XCTAssertTrue(shown.contains("sasl.username=ops"))
        XCTAssertTrue(KafkaSecrets.isSecret("sasl.oauthbearer.client.secret"))
        XCTAssertTrue(KafkaSecrets.isSecret("ssl.keystore.password"))
        XCTAssertFalse(KafkaSecrets.isSecret("sasl.username"))
    }

    func testCreateTopicAndCommitForTheDemoServices() async throws {
        let (cluster, log) = try makeCluster(groups: ["shipping"])
        try await log.createTopic("shipments", partitions: 5)
        try await log.createTopic("shipments", partitions: 9)  // an existing topic keeps its partitions
        let topic = try await eventually { try await log.snapshot().topics.first { $0.name == "shipments" } }
        // The mock cluster has no controller: CreateTopics times out and evtop falls back to the broker's
        // auto-creation, which gives the mock's default of 4 partitions (a real cluster gives the 5 asked for).
        XCTAssertEqual(topic?.partitions.count, 4)
        try await log.produce((0..<10).map { OutgoingRecord(topic: "shipments", partition: 2, timestampMillis: 0, value: Array("s\($0)".utf8)) })
        try await log.commit(group: "shipping", member: "shipping-1", offsets: [TopicPartition("shipments", 2): 6])
        try await log.commit(group: "shipping", member: "shipping-1", offsets: [:])
        let group = try await log.snapshot().groups.first { $0.id == "shipping" }
        XCTAssertEqual(group?.offsets, [TopicPartition("shipments", 2): 6])
    }

    func testGroupListingPathAndFallbackPath() {
        let listed = [GroupListing(id: "orders-svc", state: "Stable", isSimple: false),
                      GroupListing(id: "billing", state: "Empty", isSimple: false)]
        // A cluster that lists groups: every listed group, plus the named ones, once each.
        XCTAssertEqual(GroupSelection.groups(listed: listed, named: ["billing", "audit"]), ["audit", "billing", "orders-svc"])
        // A cluster that cannot (the mock, old brokers): only the named groups.
        XCTAssertEqual(GroupSelection.groups(listed: nil, named: ["billing", "", "audit"]), ["audit", "billing"])
        XCTAssertEqual(GroupSelection.groups(listed: [], named: []), [])
    }
}

/// Records collected from bulk-read callbacks.
final class LockedRecords: @unchecked Sendable {
    // @unchecked: `lock` guards `records`.
    private let lock = NSLock()
    private var records: [Record] = []
    func append(_ batch: [Record]) { lock.lock(); records += batch; lock.unlock() }
    var all: [Record] { lock.lock(); defer { lock.unlock() }; return records }
}

/// A value shared with a callback that runs on another thread.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `lock` guards `value`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { lock.lock(); defer { lock.unlock() }; return try body(&value) }
}
