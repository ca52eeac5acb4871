import XCTest
import Foundation
import EventModel
@testable import Simulator

/// The queue driver's pure parts: its shape on the broker, how an event becomes a message, and how the
/// inventory service's episodes are played on queues.
final class QueueDemoTests: XCTestCase {
    func testTheLayoutFollowsTheRoutingTable() {
        XCTAssertEqual(QueueDemoLayout.familyExchanges, ["orders", "payments", "inventory", "shipments"])
        XCTAssertEqual(QueueDemoLayout.exchanges.map(\.name), ["orders", "payments", "inventory", "shipments", "services.dlx"])
        XCTAssertEqual(QueueDemoLayout.exchanges.map(\.kind), [.topic, .topic, .topic, .topic, .fanout])
        XCTAssertEqual(QueueDemoLayout.queues.map(\.name), DemoGroups.all + ["services.dlq"])
        for queue in QueueDemoLayout.queues.dropLast() {
            XCTAssertEqual(queue.arguments, ["x-dead-letter-exchange": "services.dlx"], queue.name)
        }
        XCTAssertEqual(QueueDemoLayout.queues.last?.arguments, [:], "the DLQ dead-letters nowhere")

        // Every event type a service handles reaches its queue, by the type as routing key, and no other.
        let bindings = QueueDemoLayout.bindings
        for type in DemoEventType.allCases {
            let queues = bindings.filter { $0.exchange == type.topic && $0.routingKey == type.rawValue }.map(\.queue)
            XCTAssertEqual(queues, DemoGroups.all.filter { DemoService.handles($0, type) }, type.rawValue)
        }
        XCTAssertEqual(bindings.filter { $0.exchange == "services.dlx" }.map(\.queue), ["services.dlq"])
        XCTAssertEqual(bindings.count, DemoService.all.map(\.handles.count).reduce(0, +) + 1)
    }

    func testAnEventIsPublishedToItsFamilyWithItsTypeAsKeyAndItsPropertiesFromItsHeaders() {
        var codec = DemoEventCodec(seed: 42)
        let record = codec.event(.paymentAuthorized, orderID: "ord-1", fields: ["amount": .cents(1250)], at: 1_764_000_000_123)
        let message = QueueDemoLayout.message(record)
        XCTAssertEqual(message.exchange, "payments")
        XCTAssertEqual(message.routingKey, "PaymentAuthorized")
        XCTAssertEqual(message.correlationID, "ord-1")
        XCTAssertEqual(message.type, "PaymentAuthorized")
        XCTAssertEqual(message.contentType, "application/json")
        XCTAssertEqual(message.messageID, record.headers.last { $0.name == "event-id" }?.utf8Value)
        XCTAssertEqual(message.timestampMillis, 1_764_000_000_123)
        XCTAssertEqual(message.headers, record.headers, "the same headers (traceparent, event-type, …)")
        XCTAssertEqual(message.body, record.value, "the same event JSON")
        XCTAssertTrue(record.headers.contains { $0.name == "traceparent" })
    }

    func testAHangOfTheWholeGroupIsAStallAndAOneMemberEpisodeIsAnOutage() {
        var tuning = DemoTuning()
        tuning.stallFirstAtSeconds = 10
        tuning.stallPeriodSeconds = 20
        tuning.stallDurationSeconds = 5
        var kinds: Set<String> = []
        for seed in UInt64(1)...40 {
            let schedule = DemoSchedule(config: DemoConfig(seed: seed), tuning: tuning)
            XCTAssertNil(schedule.stallEpisode(group: DemoGroups.inventoryService, memberCount: 2, atSeconds: 9.9))
            XCTAssertNil(schedule.stallEpisode(group: DemoGroups.shippingService, memberCount: 1, atSeconds: 11), "only inventory stalls")
            XCTAssertNil(schedule.stallEpisode(group: DemoGroups.inventoryService, memberCount: 2, atSeconds: 15.5), "between episodes")
            let episode = schedule.stallEpisode(group: DemoGroups.inventoryService, memberCount: 2, atSeconds: 12)
            XCTAssertEqual(episode?.number, 0)
            // The log driver's view of the same episode is unchanged: the whole group, or exactly one member.
            let stalled = (0..<2).filter { schedule.isStalled(group: DemoGroups.inventoryService, memberIndex: $0, memberCount: 2, atSeconds: 12) }
            switch episode?.scope {
            case .wholeGroup?:
                XCTAssertEqual(stalled, [0, 1])
                XCTAssertFalse(QueueDemoSystem.isOutage(episode), "a hang keeps its consumers: STALL")
                kinds.insert("hang")
            case .oneMember(let i)?:
                XCTAssertEqual(stalled, [i])
                XCTAssertTrue(QueueDemoSystem.isOutage(episode), "played as an outage on queues: STOP")
                kinds.insert("outage")
            case nil:
                XCTFail("an episode at 12 s")
            }
        }
        XCTAssertEqual(kinds, ["hang", "outage"], "both kinds come up over seeds")
        XCTAssertFalse(QueueDemoSystem.isOutage(nil))
    }

    func testTheClockFixesItsOriginFirstAndSkipsALongPause() {
        let schedule = DemoSchedule(config: DemoConfig(), tuning: DemoTuning())
        var clock = DemoClock()
        var stats = DemoStats()
        XCTAssertNil(clock.begin(at: 1_000, schedule: schedule, stats: &stats), "the first call fixes the origin")
        XCTAssertNil(clock.begin(at: 1_000, schedule: schedule, stats: &stats), "no time passed")
        XCTAssertEqual(clock.begin(at: 1_250, schedule: schedule, stats: &stats), 1_000)
        clock.stepped(to: 1_250, stats: &stats)
        XCTAssertEqual(stats.simulatedSeconds, 0.25)
        XCTAssertEqual(clock.begin(at: 10_250, schedule: schedule, stats: &stats), 1_000)
        XCTAssertEqual(clock.lastMillis, 5_250, "at most 5 s are caught up")
        XCTAssertEqual(stats.skippedSeconds, 4)
    }

    func testOnQueuesTheEpisodesAreLongerThanTheLagWindowAndNeverOverlap() {
        let tuning = QueueDemoSystem.standardTuning
        XCTAssertGreaterThan(tuning.stallDurationSeconds, 60, "longer than ten 5 s samples of the management API")
        // The quietest traffic (wave low point in a lull) still outruns the slow phase: the backlog grows at every sample.
        XCTAssertLessThan(tuning.slowPhaseFactor, (1 - tuning.waveAmplitude) * 0.3)
        for seed in [UInt64(3), 42] {
            let schedule = DemoSchedule(config: DemoConfig(seed: seed), tuning: tuning)
            var stalled = 0.0, slow = 0.0
            for t in stride(from: 0.0, to: 1_800, by: 0.5) {
                let inEpisode = schedule.stallEpisode(group: DemoGroups.inventoryService, memberCount: 2, atSeconds: t) != nil
                let crawling = schedule.slowCapacityFactor(atSeconds: t) == tuning.slowPhaseFactor
                XCTAssertFalse(inEpisode && crawling, "an inventory episode would starve shipping's slow phase at \(t) s")
                if inEpisode { stalled += 0.5 }
                if crawling { slow += 0.5 }
            }
            XCTAssertEqual(stalled, 750, "75 s every 180 s")
            XCTAssertEqual(slow, 9 * 80 + 70, "80 s every 180 s from 110 s; the tenth is cut at 1800 s")
        }
    }
}
