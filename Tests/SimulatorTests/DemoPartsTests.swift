import XCTest
import Foundation
import EventModel
@testable import Simulator

/// The demo's parts on their own: the routing table, the consumer runtime's retry policy, the rules.
final class DemoPartsTests: XCTestCase {
    func testSubscriptionsFollowTheOneRoutingTable() {
        let topics = Dictionary(uniqueKeysWithValues: DemoService.all.map { ($0.group, $0.topics) })
        XCTAssertEqual(topics[DemoGroups.orderService], [DemoTopics.payments, DemoTopics.shipments])
        XCTAssertEqual(topics[DemoGroups.paymentService], [DemoTopics.orders, DemoTopics.inventory])
        XCTAssertEqual(topics[DemoGroups.inventoryService], [DemoTopics.payments, DemoTopics.shipments])
        XCTAssertEqual(topics[DemoGroups.shippingService], [DemoTopics.inventory])
        XCTAssertEqual(DemoService.all.map(\.group), DemoGroups.all)
        for type in DemoEventType.allCases {
            let handlers = DemoGroups.all.filter { DemoService.handles($0, type) }
            XCTAssertEqual(handlers.count, type == .orderCancelled ? 0 : 1, "\(type): \(handlers)")
        }
        XCTAssertFalse(DemoService.handles("someone-else", .orderPlaced))
    }

    func testARecordIsRetriedAfterItsBackOffThenGivenUp() {
        var tuning = DemoTuning()
        tuning.maxRetries = 3
        tuning.retryBackoffMillis = 500
        var runtime = ConsumerRuntime(tuning: tuning)
        var stats = DemoStats()
        let tp = TopicPartition("orders", 0)
        let record = Record(topic: "orders", partition: 0, offset: 7, timestampMillis: 0, key: nil, headers: [], value: nil)
        let other = Record(topic: "orders", partition: 0, offset: 8, timestampMillis: 0, key: nil, headers: [], value: nil)

        XCTAssertTrue(runtime.mayAttempt(record, group: "g", tp, now: 0))
        XCTAssertEqual(runtime.failed(record, group: "g", tp, now: 0, stats: &stats), .later, "the first failure backs off")
        XCTAssertFalse(runtime.mayAttempt(record, group: "g", tp, now: 499))
        XCTAssertTrue(runtime.mayAttempt(record, group: "g", tp, now: 500))
        XCTAssertTrue(runtime.mayAttempt(other, group: "g", tp, now: 1), "the back-off is the failing record's only")
        XCTAssertEqual(runtime.failed(record, group: "g", tp, now: 500, stats: &stats), .later)
        XCTAssertEqual(runtime.failed(record, group: "g", tp, now: 1_000, stats: &stats), .later)
        XCTAssertEqual(runtime.failed(record, group: "g", tp, now: 1_500, stats: &stats), .giveUp)
        XCTAssertEqual(stats.retries, 3)
        runtime.settled("g", tp)
        XCTAssertEqual(runtime.failed(record, group: "g", tp, now: 2_000, stats: &stats), .later, "settled: a new first failure")
    }

    func testPartitionsAreSpreadOverMembersAndCommitsFollowPositions() {
        var runtime = ConsumerRuntime(tuning: DemoTuning())
        let snapshot = BrokerSnapshot(time: Date(timeIntervalSince1970: 0), topics: DemoTopics.layout.map { t in
            TopicInfo(name: t.name, partitions: (0..<t.partitions).map { PartitionWatermarks(partition: $0, low: 2, high: 9) })
        }, groups: [ConsumerGroup(id: DemoGroups.shippingService, state: "Stable", members: 1,
                                  offsets: [TopicPartition(DemoTopics.inventory, 1): 5])])
        runtime.assign(snapshot, services: DemoService.all)
        let payment = runtime.members(of: DemoGroups.paymentService)
        XCTAssertEqual(payment.count, 2)
        XCTAssertEqual(payment.map(\.partitions.count), [3, 3], "orders and inventory, 3 partitions each, round robin")
        XCTAssertEqual(runtime.position(DemoGroups.shippingService, TopicPartition(DemoTopics.inventory, 1)), 5, "resumes from its commit")
        XCTAssertEqual(runtime.position(DemoGroups.shippingService, TopicPartition(DemoTopics.inventory, 0)), 2, "else from the log start")
        let shipping = runtime.members(of: DemoGroups.shippingService)[0]
        XCTAssertEqual(runtime.readingOrder(shipping, step: 1).map(\.partition), [1, 2, 0], "the start rotates per step")

        runtime.setPosition(7, DemoGroups.shippingService, TopicPartition(DemoTopics.inventory, 1))
        XCTAssertEqual(runtime.uncommitted(shipping).count, 3, "two never committed, one moved")
        runtime.didCommit(runtime.uncommitted(shipping), group: DemoGroups.shippingService)
        XCTAssertEqual(runtime.uncommitted(shipping), [:])
        runtime.setPosition(8, DemoGroups.shippingService, TopicPartition(DemoTopics.inventory, 1))
        runtime.rewindToCommitted()
        XCTAssertEqual(runtime.position(DemoGroups.shippingService, TopicPartition(DemoTopics.inventory, 1)), 7)
    }

    func testAServiceIgnoresWhatItDoesNotHandleAndRepliesToWhatItDoes() throws {
        var rules = DemoRules(config: DemoConfig(seed: 3, poisonRate: 0, faults: []), tuning: DemoTuning())
        var stats = DemoStats()
        let placed = rules.placeOrders(from: 0, to: 1_000, expected: 50, stats: &stats)
        XCTAssertFalse(placed.isEmpty)
        XCTAssertEqual(stats.ordersPlaced, placed.count)
        let first = try XCTUnwrap(placed.first)
        let record = Record(topic: first.topic, partition: 0, offset: 0, timestampMillis: first.timestampMillis,
                            key: first.key, headers: first.headers, value: first.value)
        guard case .ignored = rules.process(record, group: DemoGroups.shippingService, at: 2_000, stats: &stats) else {
            return XCTFail("shipping handled an OrderPlaced")
        }
        guard case .handled(let replies) = rules.process(record, group: DemoGroups.paymentService, at: 2_000, stats: &stats) else {
            return XCTFail("payment did not handle an OrderPlaced")
        }
        let reply = try XCTUnwrap(replies.first)
        XCTAssertEqual(reply.topic, DemoTopics.payments)
        XCTAssertEqual(reply.timestampMillis, 2_000)
        XCTAssertEqual(reply.traceParent?.traceID, first.traceParent?.traceID, "the reply stays in the order's trace")
    }
}
