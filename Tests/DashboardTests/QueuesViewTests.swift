import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// The topics view on a queue broker: queues with their kind, split of messages, rates, consumers and feeds,
/// and the queue detail `enter` opens. States are built from snapshots as RabbitMQLog makes them.
final class QueuesViewTests: XCTestCase {
    /// 70 s of snapshots, one a second: billing receives 10/s, delivers 8/s, acks 7/s; its DLQ holds 40 letters;
    /// `legacy` comes from a server that keeps no statistics.
    static func state(width: Int, height: Int) -> AppState {
        var state = AppState(source: "amqp://127.0.0.1:5672/shop", now: Fixtures.end, size: Size(width: width, height: height))
        for t in stride(from: -70, through: 0, by: 1) {
            Reducer.reduce(&state, .snapshot(snapshot(at: Double(t))))
        }
        return state
    }

    static func snapshot(at t: Double) -> BrokerSnapshot {
        let n = Int64(t + 1000)
        let billing = QueueFacts(
            type: "quorum", state: "running", durable: true, ready: 1_200, unacknowledged: 25, consumerCount: 2, utilisation: 0.5,
            delivered: 8 * n, acknowledged: 7 * n,
            arguments: [QueueArgument(name: "x-dead-letter-exchange", value: "orders.dlx"), QueueArgument(name: "x-delivery-limit", value: "5")],
            bindings: [QueueBinding(exchange: "orders", routingKey: "order.*")],
            consumers: [QueueConsumer(tag: "amq.ctag-billing-1", prefetch: 10, acknowledges: true, active: true, channel: "10.0.0.7:5000 (1)"),
                        QueueConsumer(tag: "amq.ctag-billing-2", prefetch: 0, acknowledges: false, active: false)])
        let dlq = QueueFacts(type: "classic", state: "running", durable: true, ready: 40, unacknowledged: 0, consumerCount: 0,
                             delivered: 0, acknowledged: 0, bindings: [QueueBinding(exchange: "orders.dlx", routingKey: "")], consumers: [])
        let legacy = QueueFacts(type: "classic", ready: 3, unacknowledged: 0, consumerCount: 0)
        let topics = [
            TopicInfo(name: "billing", partitions: [PartitionWatermarks(partition: 0, depth: 1_225, published: 10 * n)], queue: billing),
            TopicInfo(name: "billing.dlq", partitions: [PartitionWatermarks(partition: 0, depth: 40, published: 40)], queue: dlq),
            TopicInfo(name: "legacy", partitions: [PartitionWatermarks(partition: 0, depth: 3)], queue: legacy),
        ]
        return BrokerSnapshot(time: Fixtures.end.addingTimeInterval(t), topics: topics, groups: [], deadLetterTopics: ["billing.dlq"])
    }

    func row(_ lines: [String], _ name: String) -> String { lines.first { $0.contains("│ \(name) ") } ?? "" }

    func testQueuesShowKindMessagesRatesConsumersAndWhatFeedsThem() throws {
        let state = Self.state(width: 120, height: 12)
        let lines = Screen.render(state, theme: .fallback).lines
        XCTAssertTrue(lines[0].contains("3 queues"), lines[0])
        XCTAssertTrue(lines[1].contains("Queues"), lines[1])
        for title in ["QUEUE", "TYPE", "READY", "UNACKED", "TOTAL", "IN 10s/s", "OUT 10s/s", "ACK 10s/s", "CONS", "FROM"] {
            XCTAssertTrue(lines[2].contains(title), "\(title) missing: \(lines[2])")
        }
        XCTAssertFalse(lines[2].contains("PART"), lines[2])
        let billing = row(lines, "billing").split(separator: " ").map(String.init)
        // quorum, 1,200 ready, 25 unacked, 1,225 total, 10/s in, 8/s out, 7/s acked, 2 consumers, fed by orders.
        for cell in ["quorum", "1,200", "25", "1,225", "10", "8.0", "7.0", "2", "orders"] {
            XCTAssertTrue(billing.contains(cell), "\(cell) missing: \(billing)")
        }
        // No statistics kept: its rates are unknown, never 0.
        let legacy = row(lines, "legacy")
        XCTAssertTrue(legacy.range(of: #"3 +– +– +– "#, options: .regularExpression) != nil, legacy)
        XCTAssertTrue(row(lines, "billing.dlq").contains("DLQ"))
        XCTAssertTrue(lines.last?.contains("enter queue") ?? false, lines.last ?? "")
    }

    func testTheDLQBadgeSurvivesAnEightyColumnTerminal() {
        let lines = Screen.render(Self.state(width: 80, height: 10), theme: .fallback).lines
        XCTAssertTrue(row(lines, "billing.dlq").contains("billing.dlq  DLQ"), lines.joined(separator: "\n"))
    }

    func testSortingSkipsWhatAQueueTableHasNoColumnFor() {
        var state = Self.state(width: 120, height: 12)
        var seen: [TopicSortKey] = []
        for _ in 0..<8 {
            Reducer.reduce(&state, .key(.char("s")))
            seen.append(state.topicSort)
        }
        XCTAssertFalse(seen.contains(.partitions))
        XCTAssertFalse(seen.contains(.rate1))
        XCTAssertFalse(seen.contains(.rate60))
        XCTAssertEqual(Set(seen), [.name, .total, .rate10, .groups])
    }

    func testEnterOpensTheQueueWithConsumersArgumentsBindingsAndWhereItsLettersGo() {
        var state = Self.state(width: 120, height: 40)
        state.topicSort = .name
        state.topicSortDescending = false
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .registered(name: "queue", argument: "billing"))
        let text = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("billing · quorum queue"), text)
        XCTAssertTrue(text.contains("1,200 ready · 25 unacked · 1,225 total"), text)
        XCTAssertTrue(text.contains("CONSUMERS  2 · utilisation 50 %"), text)
        XCTAssertTrue(text.contains("amq.ctag-billing-1"), text)
        XCTAssertTrue(text.range(of: #"amq.ctag-billing-1 +10 +manual +yes +10\.0\.0\.7:5000"#, options: .regularExpression) != nil, text)
        XCTAssertTrue(text.range(of: #"amq.ctag-billing-2 +none +auto +standby"#, options: .regularExpression) != nil, text)
        XCTAssertTrue(text.contains("x-delivery-limit"), text)
        XCTAssertTrue(text.contains("orders → order.*"), text)
        XCTAssertTrue(text.contains("go to exchange orders.dlx → billing.dlq"), text)
        XCTAssertTrue(text.range(of: #"published +10 +10"#, options: .regularExpression) != nil, text)
        XCTAssertTrue(text.range(of: #"acknowledged +7\.0 +7\.0"#, options: .regularExpression) != nil, text)

        // The DLQ says whose letters it holds.
        state.view = .registered(name: "queue", argument: "billing.dlq")
        let dlq = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(dlq.contains("come from billing"), dlq)
        XCTAssertTrue(dlq.contains("none attached"), dlq)
    }

    func testDeadLetterFlowsFollowTheRoutingKeyAndTheDefaultExchange() {
        func q(_ name: String, args: [QueueArgument] = [], bindings: [QueueBinding] = []) -> TopicInfo {
            TopicInfo(name: name, partitions: [PartitionWatermarks(partition: 0, depth: 0)],
                      queue: QueueFacts(type: "classic", arguments: args, bindings: bindings))
        }
        let topics = [
            q("billing", args: [QueueArgument(name: "x-dead-letter-exchange", value: "dlx"), QueueArgument(name: "x-dead-letter-routing-key", value: "billing")]),
            q("billing.dlq", bindings: [QueueBinding(exchange: "dlx", routingKey: "billing")]),
            q("shipping.dlq", bindings: [QueueBinding(exchange: "dlx", routingKey: "shipping")]),
            q("audit", args: [QueueArgument(name: "x-dead-letter-exchange", value: "")]),
        ]
        let billing = QueueDetailModel.deadLetterFlows(queue: "billing", in: topics)
        XCTAssertEqual(billing.to, ["exchange dlx with key billing → billing.dlq"], "shipping.dlq is bound by another key")
        XCTAssertEqual(QueueDetailModel.deadLetterFlows(queue: "shipping.dlq", in: topics).from, [])
        XCTAssertEqual(QueueDetailModel.deadLetterFlows(queue: "billing.dlq", in: topics).from, ["billing"])
        XCTAssertEqual(QueueDetailModel.deadLetterFlows(queue: "audit", in: topics).to,
                       ["the default exchange, by each letter's original routing key"])
    }

    func testAQueueWithoutStatisticsOrConsumerListSaysSo() {
        var state = Self.state(width: 100, height: 30)
        state.view = .registered(name: "queue", argument: "legacy")
        let text = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(text.range(of: #"delivered +– +–"#, options: .regularExpression) != nil, text)
        XCTAssertTrue(text.contains("the broker did not list them"), text)
    }
}
