import Foundation
import XCTest
import KafkaLog
import EventModel
import Redrive

/// Redrive through KafkaLog against librdkafka's mock cluster, kcat on the other side: dead
/// letters that kcat wrote with Spring headers go back exactly once, through broker outages.
final class RedriveKafkaTests: XCTestCase {
    private var clusters: [KafkaMockCluster] = []

    func testRedriveThroughABrokerOutageLandsEveryLetterExactlyOnceAsKcatSeesIt() async throws {
        let made = try makeMockCluster()
        clusters.append(made.0)
        let (cluster, log) = made
        try cluster.createTopic("orders", partitions: 3)
        try cluster.createTopic("orders.DLT", partitions: 1)
        let letters = 600
        try kcatProduce(cluster.bootstrap, topic: "orders.DLT",
                        lines: (0..<letters).map { "{\"eventType\":\"OrderPlaced\",\"orderId\":\"ord-\($0)\"}" },
                        key: "ord", headers: ["kafka_dlt-original-topic=orders",
                                              "kafka_dlt-exception-fqcn=java.lang.IllegalStateException",
                                              "correlation-id=ord-x"])
        let dlq = try await eventually { () -> TopicInfo? in
            let info = try await log.watermarks(topic: "orders.DLT")
            return info.totalHigh == Int64(letters) ? info : nil
        }
        XCTAssertEqual(dlq?.totalHigh, Int64(letters))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-kafka-redrive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: dir.appendingPathComponent("journal").path))
        let positions = (0..<letters).map { RecordPosition(topic: "orders.DLT", partition: 0, offset: Int64($0)) }
        // Two of three brokers go down during the job, and produce requests time out; then they come back.
        let progressCount = Counter()
        Task {
            while progressCount.value < 1 { try await Task.sleep(for: .milliseconds(20)) }
            cluster.pushRequestErrors(apiKey: 0, count: 4, error: 7)
            cluster.setBroker(1, up: false)
            cluster.setBroker(2, up: false)
            try await Task.sleep(for: .seconds(2))
            cluster.setBroker(1, up: true)
            cluster.setBroker(2, up: true)
        }
        let report = try await engine.run(
            RedriveRequest(sourceTopic: "orders.DLT", positions: positions, ratePerSecond: 400,
                           selectionDescription: "all", user: "test"),
            progress: { _ in progressCount.increment() })
        XCTAssertEqual(report.moved, letters)
        XCTAssertEqual(report.failed, 0)

        // kcat reads the target: every redrive id exactly once.
        let read = try kcat(["-C", "-b", cluster.bootstrap, "-t", "orders", "-e", "-q", "-o", "beginning", "-f", "%h\\n"])
        XCTAssertEqual(read.status, 0, read.stderr)
        var counts: [String: Int] = [:]
        for line in read.text.split(separator: "\n") {
            guard let range = line.range(of: "evtop-redrive-id=") else { continue }
            let id = line[range.upperBound...].split(separator: ",").first.map(String.init) ?? ""
            counts[id, default: 0] += 1
        }
        XCTAssertEqual(counts.count, letters, "every letter landed")
        XCTAssertEqual(Set(counts.values), [1], "none twice")
        // Spring headers are gone, the application's are kept.
        XCTAssertFalse(read.text.contains("kafka_dlt-original-topic"))
        XCTAssertTrue(read.text.contains("correlation-id=ord-x"))
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
