import XCTest
import Foundation
@testable import EventModel

final class RateSeriesTests: XCTestCase {
    func testRateOverWindowsFromSteadyCounter() throws {
        var s = RateSeries(span: 60)
        for t in 0...70 { s.append(time: Double(t), value: Int64(t * 100)) }
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 1)), 100, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 10)), 100, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 60)), 100, accuracy: 1e-9)
        // Bounded: about one minute of one-second samples, never the whole history.
        XCTAssertLessThanOrEqual(s.samples.count, 62)
    }

    /// A window the samples do not reach back to is unknown, not the short span's rate under its name.
    func testWindowLongerThanTheHistoryIsNotMeasured() throws {
        var s = RateSeries(span: 60)
        for t in 0...5 { s.append(time: Double(t), value: Int64(t * 40)) }
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 1)), 40, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 5)), 40, accuracy: 1e-9)
        XCTAssertNil(s.rate(over: 10))
        XCTAssertNil(s.rate(over: 60))
    }

    func testRateNeedsTwoSamples() {
        var s = RateSeries()
        XCTAssertNil(s.rate(over: 1))
        s.append(time: 0, value: 5)
        XCTAssertNil(s.rate(over: 1))
        s.append(time: 2, value: 9)
        XCTAssertEqual(s.rate(over: 1), 2)
    }

    func testBurstShowsInShortWindowOnly() throws {
        var s = RateSeries(span: 60)
        for t in 0...59 { s.append(time: Double(t), value: Int64(t * 10)) }
        s.append(time: 60, value: 590 + 1000)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 1)), 1000, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 10)), (1000 + 90) / 10, accuracy: 1e-9)
        XCTAssertLessThan(try XCTUnwrap(s.rate(over: 60)), 30)
    }

    func testCounterGoingBackRestartsSeries() {
        var s = RateSeries()
        s.append(time: 0, value: 1000)
        s.append(time: 1, value: 2000)
        s.append(time: 2, value: 5) // topic recreated
        XCTAssertNil(s.rate(over: 1), "no negative rate after a reset")
        s.append(time: 3, value: 15)
        XCTAssertEqual(s.rate(over: 1), 10)
    }

    func testOutOfOrderSampleIgnored() {
        var s = RateSeries()
        s.append(time: 5, value: 50)
        s.append(time: 4, value: 0)
        s.append(time: 6, value: 60)
        XCTAssertEqual(s.rate(over: 1), 10)
    }

    func testEarlyTickStillCountsAsOneSecond() throws {
        var s = RateSeries()
        s.append(time: 0, value: 0)
        s.append(time: 0.97, value: 97)
        s.append(time: 1.95, value: 195)
        XCTAssertEqual(try XCTUnwrap(s.rate(over: 1)), 100, accuracy: 1e-6)
    }

    func testHistoryBucketsRatesAndStaysBounded() {
        var h = RateHistory(bucketSeconds: 5, capacity: 4)
        var v: Int64 = 0
        for t in stride(from: 0, through: 60, by: 1) {
            h.append(time: Double(t), value: v)
            v += t < 30 ? 10 : 20
        }
        XCTAssertEqual(h.values.count, 4)
        XCTAssertEqual(h.values.last ?? 0, 20, accuracy: 1e-9)
    }
}

final class ThroughputMeterTests: XCTestCase {
    private func snapshot(_ t: Double, _ topics: [String: [Int64]]) -> BrokerSnapshot {
        BrokerSnapshot(
            time: Date(timeIntervalSinceReferenceDate: t),
            topics: topics.keys.sorted().map { name in
                TopicInfo(name: name, partitions: (topics[name] ?? []).enumerated().map {
                    PartitionWatermarks(partition: Int32($0.offset), low: 0, high: $0.element)
                })
            },
            groups: [])
    }

    func testTopicRateIsSumOfPartitionRates() throws {
        var m = ThroughputMeter()
        m.record(snapshot(0, ["orders": [0, 0, 0]]))
        m.record(snapshot(1, ["orders": [10, 20, 30]]))
        XCTAssertEqual(try XCTUnwrap(m.rates(topic: "orders").perSecond1), 60, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(m.rates(topic: "orders", partition: 2).perSecond1), 30, accuracy: 1e-9)
        XCTAssertNil(m.rates(topic: "nope").perSecond1)
    }

    func testPartitionAddedWhileWatching() throws {
        var m = ThroughputMeter()
        m.record(snapshot(0, ["t": [100]]))
        m.record(snapshot(1, ["t": [110]]))
        m.record(snapshot(2, ["t": [120, 0]]))
        m.record(snapshot(3, ["t": [130, 5]]))
        XCTAssertEqual(try XCTUnwrap(m.rates(topic: "t").perSecond1), 15, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(m.rates(topic: "t", partition: 1).perSecond1), 5, accuracy: 1e-9)
    }

    func testVanishedTopicIsForgotten() {
        var m = ThroughputMeter()
        m.record(snapshot(0, ["a": [1], "b": [1]]))
        m.record(snapshot(1, ["a": [2]]))
        m.record(snapshot(2, ["a": [3], "b": [50]]))
        XCTAssertNil(m.rates(topic: "b").perSecond1, "b was recreated: no rate from before it vanished")
    }
}

final class DeadLetterTopicsTests: XCTestCase {
    func testDefaultPatterns() {
        let d = DeadLetterTopics()
        for yes in ["orders.DLT", "payments.DLQ", "orders-dlt", "dlq.orders", "x.dead-letter"] {
            XCTAssertTrue(d.isDeadLetterTopic(yes), yes)
        }
        for no in ["orders", "DLT", "orders.DLT.archive", "dlqorders"] {
            XCTAssertFalse(d.isDeadLetterTopic(no), no)
        }
    }

    func testGlob() {
        XCTAssertTrue(Glob.matches(pattern: "a*b*c", text: "axxbyyc"))
        XCTAssertFalse(Glob.matches(pattern: "a*b*c", text: "axxbyy"))
        XCTAssertTrue(Glob.matches(pattern: "?rders", text: "orders"))
        XCTAssertTrue(Glob.matches(pattern: "*", text: ""))
    }
}
