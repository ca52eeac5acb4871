import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// `:brokers`: a Kafka cluster's brokers and the partitions that need attention, from partition metadata.
final class BrokersViewTests: XCTestCase {
    /// Three brokers, broker 2 down: `orders` p1 is led by it (offline), p2 has broker 3 out of sync.
    static func state(width: Int = 100, height: Int = 20, controller: Int32? = 3) -> AppState {
        var state = AppState(source: "kafka://k:9092", now: Fixtures.end, size: Size(width: width, height: height))
        func p(_ n: Int32, leader: Int32?, replicas: [Int32], isr: [Int32]) -> PartitionWatermarks {
            PartitionWatermarks(partition: n, low: 0, high: 100, leader: leader, replicas: replicas, inSyncReplicas: isr)
        }
        let topics = [
            TopicInfo(name: "orders", partitions: [p(0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3]),
                                                   p(1, leader: 2, replicas: [2, 3, 1], isr: [2, 3, 1]),
                                                   p(2, leader: 3, replicas: [3, 1, 2], isr: [3, 1])]),
            TopicInfo(name: "payments", partitions: [p(0, leader: nil, replicas: [1], isr: [])]),
        ]
        Reducer.reduce(&state, .snapshot(BrokerSnapshot(time: Fixtures.end, topics: topics, groups: [],
                                                         brokers: BrokerAvailability(total: 3, down: [2], controller: controller))))
        state.view = .registered(name: "brokers", argument: "")
        return state
    }

    func testEachBrokersLoadAndThePartitionsThatNeedAttention() throws {
        let health = try XCTUnwrap(BrokersModel.health(Self.state().snapshot))
        XCTAssertEqual(health.brokers.map(\.id), [1, 2, 3])
        XCTAssertEqual(health.brokers.map(\.leads), [1, 1, 1])
        XCTAssertEqual(health.brokers.map(\.replicas), [4, 3, 3])
        XCTAssertEqual(health.brokers.map(\.isUp), [true, false, true])
        XCTAssertEqual(health.brokers.map(\.outOfSync), [1, 1, 0], "payments p0 lost broker 1 from its ISR; orders p2 lost broker 2")
        XCTAssertEqual(health.offline, [TopicPartition("orders", 1), TopicPartition("payments", 0)])
        XCTAssertEqual(health.underReplicated, [TopicPartition("orders", 2), TopicPartition("payments", 0)])

        let text = Screen.render(Self.state(), theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("2 under-replicated · 2 offline of 4 partitions"), text)
        XCTAssertTrue(text.range(of: #"2 DOWN"#, options: .regularExpression) != nil, text)
        XCTAssertTrue(text.contains("offline (no live leader): 2"), text)
        XCTAssertTrue(text.contains("orders p1"), text)
    }

    /// Issue 14 (contexts): the brokers view says which broker is the controller, in its row and its title.
    func testTheControllerIsShown() throws {
        let health = try XCTUnwrap(BrokersModel.health(Self.state().snapshot))
        XCTAssertEqual(health.controller, 3)
        XCTAssertEqual(health.brokers.map(\.isController), [false, false, true])
        let lines = Screen.render(Self.state(), theme: .fallback).lines
        XCTAssertTrue(lines.joined().contains("controller 3"), lines.joined(separator: "\n"))
        let row = lines.first { $0.range(of: #"│\s+3 up"#, options: .regularExpression) != nil } ?? ""
        XCTAssertTrue(row.contains("controller"), row)
        let other = lines.first { $0.range(of: #"│\s+1 up"#, options: .regularExpression) != nil } ?? ""
        XCTAssertFalse(other.isEmpty)
        XCTAssertFalse(other.contains("controller"), other)

        // Not known (librdkafka's -1): said so, never a made-up broker.
        XCTAssertNil(BrokerAvailability(total: 3, down: [], controller: -1).controller)
        let unknown = Screen.render(Self.state(controller: nil), theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(unknown.contains("controller unknown"), unknown)
        XCTAssertEqual(try XCTUnwrap(BrokersModel.health(Self.state(controller: nil).snapshot)).brokers.filter(\.isController), [])
    }

    func testASourceWithoutBrokersSaysSoAndTheCommandOpensIt() {
        var state = Fixtures.liveState(width: 100, height: 12)
        XCTAssertNil(BrokersModel.health(state.snapshot))
        Reducer.reduce(&state, .key(.char(":")))
        for ch in "brokers" { Reducer.reduce(&state, .key(.char(ch))) }
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .registered(name: "brokers", argument: ""))
        XCTAssertTrue(Screen.render(state, theme: .fallback).lines.joined().contains("only Kafka does"))
    }
}
