import Foundation
import XCTest
import KafkaLog
import EventModel
import EmbeddedStore

/// The saga index of a Kafka cluster: a local SQLite file fed by the CorrelationIndexer over a KafkaLog
/// (the browse consumer, assign() only), with kcat writing the events on the other side.
final class CorrelationIndexKafkaTests: XCTestCase {
    private var clusters: [KafkaMockCluster] = []
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-kafka-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testIndexFindsWhatKcatWroteByCorrelationIDInBoundedTicks() async throws {
        let (cluster, log) = try makeMockCluster()
        clusters.append(cluster)
        try cluster.createTopic("orders", partitions: 3)
        try cluster.createTopic("payments", partitions: 2)
        // Header-carried IDs (as a Spring or kcat producer sets them), a JSON-carried one, and records without any.
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: (0..<40).map { "{\"n\":\($0)}" },
                        headers: ["correlation-id=ord-1", "eventType=OrderPlaced"], partition: 0)
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: (0..<25).map { "{\"n\":\($0)}" },
                        headers: ["correlation-id=ord-2"], partition: 2)
        try kcatProduce(cluster.bootstrap, topic: "payments", lines: ["{\"correlationId\":\"ord-1\",\"type\":\"PaymentCaptured\"}"], partition: 1)
        try kcatProduce(cluster.bootstrap, topic: "payments", lines: (0..<30).map { "no id \($0)" }, partition: 0)

        let index = try CorrelationIndex(path: directory.appendingPathComponent("cluster.sqlite").path)
        let indexer = CorrelationIndexer(log: log, index: index, rules: .default, maxRecordsPerTick: 20)
        // Bounded per tick: never more than maxRecordsPerTick records read by one call.
        var ticks = 0
        var total = 0
        while ticks < 50 {
            let p = try await indexer.catchUp()
            XCTAssertLessThanOrEqual(p.read, 20)
            total += p.read
            ticks += 1
            if p.remaining == 0 { break }
        }
        XCTAssertEqual(total, 96)
        XCTAssertGreaterThan(ticks, 4)

        let one = try await index.records(correlationID: "ord-1")
        XCTAssertEqual(one.count, 41)
        XCTAssertEqual(one.filter { $0.topic == "orders" }.map(\.offset), Array(0..<40))
        XCTAssertEqual(one.filter { $0.topic == "payments" }.map(\.partition), [1])
        XCTAssertEqual(one.first { $0.topic == "orders" }?.eventType, "OrderPlaced")
        XCTAssertEqual(one.first { $0.topic == "payments" }?.eventType, "PaymentCaptured")
        let two = try await index.records(correlationID: "ord-2")
        XCTAssertEqual(two.map(\.partition), Array(repeating: 2, count: 25))
        let none = try await index.records(correlationID: "ord-3")
        XCTAssertTrue(none.isEmpty)

        // Later records are indexed by the next tick, from the cursors (nothing re-read).
        try kcatProduce(cluster.bootstrap, topic: "orders", lines: ["{\"late\":1}", "{\"late\":2}"], headers: ["correlation-id=ord-3"], partition: 1)
        let found = try await eventually { () -> [SagaEventRef]? in
            try await indexer.catchUp()
            let refs = try await index.records(correlationID: "ord-3")
            return refs.count == 2 ? refs : nil
        }
        XCTAssertEqual(found?.map(\.offset), [0, 1])
        let again = try await index.records(correlationID: "ord-1")
        XCTAssertEqual(again.count, 41)
        let indexed = try await index.indexedRecordCount()
        XCTAssertEqual(indexed, 68)
    }
}
