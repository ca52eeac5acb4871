import XCTest
@testable import RabbitMQLog
import EventModel

/// The snapshot the management API's answers make, as RabbitMQ 3.x sends them (trimmed to the fields asked for).
final class RabbitMQSnapshotTests: XCTestCase {
    static let queues = #"""
    [{"name":"billing","type":"quorum","state":"running","durable":true,"messages":1225,"messages_ready":1200,
      "messages_unacknowledged":25,"consumers":2,"consumer_utilisation":0.5,"head_message_timestamp":"",
      "arguments":{"x-dead-letter-exchange":"orders.dlx","x-delivery-limit":5,"x-queue-type":"quorum"},
      "message_stats":{"publish":5000,"deliver_get":3900,"ack":3800,"deliver_no_ack":0,"get_no_ack":0}},
     {"name":"billing.dlq","type":"classic","state":"running","durable":true,"messages":40,"messages_ready":40,
      "messages_unacknowledged":0,"consumers":0,"arguments":{}},
     {"name":"fresh","type":"classic","messages":0,"messages_ready":0,"messages_unacknowledged":0,"consumers":0,"arguments":{}},
     {"name":"evtop.tap.ops-laptop.4242","type":"classic","messages":12,"messages_ready":12,"messages_unacknowledged":0,"consumers":1,
      "arguments":{"x-max-length":100000,"x-overflow":"drop-head"}}]
    """#
    static let bindings = #"""
    [{"source":"","destination":"billing","destination_type":"queue","routing_key":"billing","arguments":{}},
     {"source":"orders","destination":"billing","destination_type":"queue","routing_key":"order.*","arguments":{}},
     {"source":"audit","destination":"billing","destination_type":"queue","routing_key":"","arguments":{"x-match":"all","kind":"order"}},
     {"source":"orders.dlx","destination":"billing.dlq","destination_type":"queue","routing_key":"","arguments":{}},
     {"source":"orders","destination":"orders.archive","destination_type":"exchange","routing_key":"#","arguments":{}}]
    """#
    static let consumers = #"""
    [{"queue":{"name":"billing","vhost":"shop"},"consumer_tag":"amq.ctag-1","prefetch_count":10,"ack_required":true,
      "active":true,"channel_details":{"name":"10.0.0.7:5000 -> 10.0.0.1:5672 (1)"}},
     {"queue":{"name":"billing","vhost":"shop"},"consumer_tag":"amq.ctag-2","prefetch_count":0,"ack_required":false,"active":false}]
    """#

    func decode<T: Decodable>(_ text: String, as: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(text.utf8)) }

    func testEachQueueCarriesItsKindSplitCountersArgumentsBindingsAndConsumers() throws {
        let snapshot = RabbitMQLog.snapshot(time: Date(), queues: try decode(Self.queues, as: [ManagementAPI.Queue].self),
                                            bindings: try decode(Self.bindings, as: [ManagementAPI.Binding].self),
                                            consumers: try decode(Self.consumers, as: [ManagementAPI.Consumer].self), keepsStatistics: true)
        let billing = try XCTUnwrap(snapshot.topics.first { $0.name == "billing" }?.queue)
        XCTAssertEqual(billing.type, "quorum")
        XCTAssertEqual(billing.ready, 1200)
        XCTAssertEqual(billing.unacknowledged, 25)
        XCTAssertEqual(billing.consumerCount, 2)
        XCTAssertEqual(billing.utilisation, 0.5)
        XCTAssertEqual(billing.delivered, 3900)
        XCTAssertEqual(billing.acknowledged, 3800)
        XCTAssertEqual(billing.argument("x-delivery-limit"), "5")
        XCTAssertEqual(billing.argument("x-dead-letter-exchange"), "orders.dlx")
        // The default exchange's implicit binding is every queue's: left out.
        XCTAssertEqual(billing.bindings.map(\.exchange), ["audit", "orders"])
        XCTAssertEqual(billing.sources, ["audit", "orders"])
        XCTAssertEqual(billing.bindings.first?.arguments.map(\.name), ["kind", "x-match"])
        XCTAssertEqual(billing.consumers?.map(\.tag), ["amq.ctag-1", "amq.ctag-2"])
        XCTAssertEqual(billing.consumers?.first?.prefetch, 10)
        XCTAssertEqual(billing.consumers?.first?.channel, "10.0.0.7:5000 -> 10.0.0.1:5672 (1)")
        XCTAssertEqual(billing.consumers?.last?.acknowledges, false)
        XCTAssertEqual(billing.consumers?.last?.active, false)

        // A queue that has seen no traffic counts 0 deliveries on a server that keeps statistics.
        let fresh = try XCTUnwrap(snapshot.topics.first { $0.name == "fresh" }?.queue)
        XCTAssertEqual(fresh.delivered, 0)
        XCTAssertEqual(fresh.consumers, [])
        XCTAssertEqual(snapshot.topics.first { $0.name == "billing.dlq" }?.queue?.sources, ["orders.dlx"])
        // An evtop's tap queue is its own copy, not part of the flow: neither a queue nor a group.
        XCTAssertEqual(snapshot.topics.map(\.name), ["billing", "billing.dlq", "fresh"])
        XCTAssertFalse(snapshot.groups.contains { $0.id.hasPrefix("evtop.tap.") })
    }

    func testHowAQueueMayBeBrowsedFollowsItsTypeAndDeliveryLimit() throws {
        let queues = try decode(#"[{"name":"old","messages":1},{"name":"q","type":"quorum","arguments":{}},{"name":"limited","type":"quorum","arguments":{"x-delivery-limit":5}}]"#,
                                as: [ManagementAPI.Queue].self)
        let v3 = queues.map { RabbitMQLog.kind(of: $0, serverMajorVersion: 3) }
        XCTAssertEqual(v3.map(\.type), ["classic", "quorum", "quorum"], "a server that names no type has only classic queues")
        XCTAssertEqual(v3.map(\.limitsDeliveries), [false, false, true])
        // RabbitMQ 4 gives every quorum queue a delivery limit of 20.
        XCTAssertEqual(queues.map { RabbitMQLog.kind(of: $0, serverMajorVersion: 4).limitsDeliveries }, [false, true, true])
    }

    func testWithoutStatisticsOrAConsumerListTheFiguresAreUnknownNotZero() throws {
        let snapshot = RabbitMQLog.snapshot(time: Date(), queues: try decode(Self.queues, as: [ManagementAPI.Queue].self),
                                            bindings: try decode(Self.bindings, as: [ManagementAPI.Binding].self),
                                            consumers: nil, keepsStatistics: false)
        let billing = try XCTUnwrap(snapshot.topics.first { $0.name == "billing" }?.queue)
        XCTAssertNil(billing.delivered)
        XCTAssertNil(billing.acknowledged)
        XCTAssertNil(billing.consumers)
        XCTAssertEqual(billing.consumerCount, 2)
    }

    func testTheMeterMeasuresDeliveriesAndAcknowledgementsFromTheCounters() {
        var meter = ThroughputMeter()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for t in 0...20 {
            let facts = QueueFacts(delivered: Int64(100 + 6 * t), acknowledged: Int64(50 + 4 * t))
            meter.record(BrokerSnapshot(time: start.addingTimeInterval(Double(t)), topics: [
                TopicInfo(name: "q", partitions: [PartitionWatermarks(partition: 0, depth: 5, published: Int64(10 * t))], queue: facts),
                TopicInfo(name: "log", partitions: [PartitionWatermarks(partition: 0, low: 0, high: Int64(t))]),
            ], groups: []))
        }
        XCTAssertEqual(meter.queueRates(topic: "q").delivered.perSecond10 ?? 0, 6, accuracy: 0.01)
        XCTAssertEqual(meter.queueRates(topic: "q").acknowledged.perSecond10 ?? 0, 4, accuracy: 0.01)
        XCTAssertNil(meter.queueRates(topic: "q").delivered.perSecond60, "20 s of samples do not cover 60 s")
        XCTAssertNil(meter.queueRates(topic: "log").delivered.perSecond10, "a log has no deliveries to count")
    }
}
