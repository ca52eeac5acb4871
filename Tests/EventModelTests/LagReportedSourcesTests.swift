import XCTest
import Foundation
@testable import EventModel

// In-memory sources of the three reported-lag shapes (see EventModel.docc/BrokerMapping.md). Each
// keeps the figures its broker keeps, under the broker's names, changes them as the broker would,
// and maps them onto a BrokerSnapshot the way a connector for it does. No clock is read: times are
// seconds after a fixed origin.

private let origin = Date(timeIntervalSinceReferenceDate: 700_000_000)
private func at(_ s: Double) -> Date { origin.addingTimeInterval(s) }
private func epochMillis(_ s: Double) -> Int64 { Int64((at(s).timeIntervalSince1970 * 1000).rounded()) }

/// A RabbitMQ classic queue as `GET /api/queues/{vhost}/{name}` reports it: a depth and an ack
/// counter, no offsets.
private struct RabbitQueue {
    var name = "orders.q"
    var messagesReady: Int64 = 0
    var messagesUnacknowledged: Int64 = 0
    var consumers = 1
    /// `message_stats.ack`; nil when the management plugin collects no message stats.
    var ack: Int64? = 0
    /// `head_message_timestamp` (seconds since the epoch), set only when publishers set `timestamp`.
    var headMessageTimestamp: Int64?

    mutating func publish(_ n: Int64) { messagesReady += n }

    /// Consumers take `n` ready messages and acknowledge them.
    mutating func consume(_ n: Int64) {
        let k = min(n, messagesReady)
        messagesReady -= k
        ack = ack.map { $0 + k }
    }

    var tp: TopicPartition { TopicPartition(name, 0) }

    func snapshot(_ t: Double) -> BrokerSnapshot {
        let depth = messagesReady + messagesUnacknowledged
        let topic = TopicInfo(name: name, partitions: [PartitionWatermarks(partition: 0, depth: depth)])
        let group = ConsumerGroup(id: name, state: "running", members: consumers, offsets: [:], reported: [
            tp: ReportedLag(pending: depth, acknowledged: ack, inFlight: messagesUnacknowledged,
                            oldestPendingMillis: headMessageTimestamp.map { $0 * 1000 }),
        ])
        return BrokerSnapshot(time: at(t), topics: [topic], groups: [group])
    }
}

/// Redis streams and one consumer group as `XINFO STREAM` and `XINFO GROUPS` report them (Redis 7+).
private struct RedisStreams {
    struct Stream {
        var entriesAdded: Int64 = 0
        var length: Int64 = 0
        /// The group's `entries-read`.
        var entriesRead: Int64 = 0
        /// The group's PEL size (`pending`).
        var pel: Int64 = 0
        /// Redis reports `lag` as nil once an entry between the group and the end was deleted.
        var lagValid = true
        var lag: Int64? { lagValid ? entriesAdded - entriesRead : nil }
    }
    var group = "billing"
    var consumers = 1
    var streams: [String: Stream] = [:]

    mutating func xadd(_ key: String, _ n: Int64) {
        streams[key, default: Stream()].entriesAdded += n
        streams[key, default: Stream()].length += n
    }

    /// XREADGROUP then XACK of `n` entries.
    mutating func readAndAck(_ key: String, _ n: Int64) {
        guard var s = streams[key] else { return }
        s.entriesRead = min(s.entriesAdded, s.entriesRead + n)
        streams[key] = s
    }

    func snapshot(_ t: Double) -> BrokerSnapshot {
        let keys = streams.keys.sorted()
        let topics = keys.map { key -> TopicInfo in
            let s = streams[key]!
            return TopicInfo(name: key, partitions: [PartitionWatermarks(partition: 0, low: s.entriesAdded - s.length, high: s.entriesAdded)])
        }
        var reported: [TopicPartition: ReportedLag] = [:]
        for key in keys {
            let s = streams[key]!
            reported[TopicPartition(key, 0)] = ReportedLag(pending: s.lag, position: s.entriesRead, inFlight: s.pel)
        }
        let g = ConsumerGroup(id: group, state: "", members: consumers, offsets: [:], reported: reported)
        return BrokerSnapshot(time: at(t), topics: topics, groups: [g])
    }
}

/// A JetStream stream and a durable consumer as `STREAM.INFO` and `CONSUMER.INFO` report them.
private struct JetStreamConsumer {
    var stream = "ORDERS"
    var name = "billing"
    var firstSeq: Int64 = 1
    var lastSeq: Int64 = 0
    /// `delivered.stream_seq`.
    var deliveredSeq: Int64 = 0
    /// `ack_floor.stream_seq`.
    var ackFloorSeq: Int64 = 0
    /// `ack_floor.last_active`, milliseconds since the epoch.
    var ackFloorLastActive: Int64?
    /// `push_bound`.
    var pushBound = true

    var numPending: Int64 { lastSeq - deliveredSeq }
    var numAckPending: Int64 { deliveredSeq - ackFloorSeq }

    mutating func publish(_ n: Int64) { lastSeq += n }

    /// Delivers up to `n` messages and acknowledges up to `acks` in order, at time t.
    mutating func consume(deliver n: Int64, ack acks: Int64, at t: Double) {
        deliveredSeq = min(lastSeq, deliveredSeq + n)
        let floor = min(deliveredSeq, ackFloorSeq + acks)
        if floor != ackFloorSeq { ackFloorLastActive = epochMillis(t) }
        ackFloorSeq = floor
    }

    var tp: TopicPartition { TopicPartition(stream, 0) }

    func snapshot(_ t: Double) -> BrokerSnapshot {
        let topic = TopicInfo(name: stream, partitions: [PartitionWatermarks(partition: 0, low: firstSeq, high: lastSeq + 1)])
        let group = ConsumerGroup(
            id: name, state: "", members: pushBound ? 1 : 0, offsets: [:],
            commitTimesMillis: ackFloorLastActive.map { [tp: $0] } ?? [:],
            reported: [tp: ReportedLag(pending: numPending + numAckPending, position: ackFloorSeq + 1, inFlight: numAckPending)])
        return BrokerSnapshot(time: at(t), topics: [topic], groups: [group])
    }
}

private func evaluate(_ tracker: LagTracker, _ group: String, _ t: Double,
                      file: StaticString = #filePath, line: UInt = #line) throws -> GroupLag {
    try XCTUnwrap(tracker.evaluate(group: group, now: at(t)), file: file, line: line)
}

final class LagRabbitMQQueueTests: XCTestCase {
    func testQueueKeepingPaceIsOKAndWhatItCannotTellStaysUnknown() throws {
        var q = RabbitQueue()
        q.messagesReady = 5
        var tracker = LagTracker()
        for t in 0...20 {
            if t > 0 { q.publish(10); q.consume(10) }
            tracker.record(q.snapshot(Double(t)))
        }
        let g = try evaluate(tracker, q.name, 20)
        XCTAssertEqual(g.status, .ok)
        XCTAssertEqual(g.totalLag, 5)
        XCTAssertEqual(g.lagUnknownPartitions, 0)
        XCTAssertEqual(g.trend, .steady)
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.basis, .reported)
        XCTAssertNil(p.committed, "a queue has no offsets")
        XCTAssertNil(p.high, "nor a log end")
        XCTAssertEqual(p.lag, 5)
        XCTAssertNil(p.secondsBehind, "no head message timestamp: time behind is unknown, not 0")
        XCTAssertFalse(g.hasNoPositions)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 10, accuracy: 1e-9, "acks + backlog growth")
        XCTAssertNil(p.catchUpSeconds, "the backlog is not falling")
        XCTAssertEqual(p.windowSamples, 10)
        XCTAssertEqual(p.lastCommitAgeSeconds, 0)
    }

    func testConsumersAttachedBacklogAndAcksNotMovingIsStall() throws {
        var q = RabbitQueue()
        q.consumers = 2
        var tracker = LagTracker()
        // Caught up for ten seconds, then the consumers hang: still attached, no more acks.
        for t in 0...20 {
            q.publish(10)
            if t < 10 { q.consume(10) }
            tracker.record(q.snapshot(Double(t)))
            let g = try evaluate(tracker, q.name, Double(t))
            // Last ack at t=9; the window spans t=0…9, so idle must exceed max(9, 10) s.
            XCTAssertEqual(g.status, t < 20 ? .ok : .stall, "t=\(t)")
        }
        let p = try XCTUnwrap(try evaluate(tracker, q.name, 20).partitions.first)
        XCTAssertEqual(p.lag, 110)
        XCTAssertEqual(p.lastCommitAgeSeconds, 11)
        XCTAssertEqual(p.reported?.acknowledged, 100)
    }

    func testNoConsumersWithBacklogIsStopAndAnEmptyQueueIsOK() throws {
        var q = RabbitQueue()
        q.consumers = 0
        q.messagesReady = 30
        q.ack = 100
        var empty = RabbitQueue()
        empty.name = "idle.q"
        empty.consumers = 0
        var tracker = LagTracker()
        var idle = LagTracker()
        for t in 0...12 {
            tracker.record(q.snapshot(Double(t)))
            idle.record(empty.snapshot(Double(t)))
        }
        // Nobody attached and nothing seen taking the 30 waiting: STOP from the first sample, not OK until a floor passes.
        var first = LagTracker()
        first.record(q.snapshot(0))
        XCTAssertEqual(try evaluate(first, q.name, 0).status, .stop)
        XCTAssertEqual(try evaluate(tracker, q.name, 10).status, .stop)
        XCTAssertEqual(try evaluate(tracker, q.name, 11).status, .stop)
        XCTAssertEqual(try evaluate(idle, empty.name, 12).status, .ok)
        XCTAssertEqual(try evaluate(idle, empty.name, 12).totalLag, 0)

        // Pollers (basic.get) are no consumers, but their acks show the queue is being consumed.
        var polled = RabbitQueue()
        polled.consumers = 0
        polled.messagesReady = 30
        var poll = LagTracker()
        for t in 0...20 {
            polled.publish(5)
            polled.consume(5)
            poll.record(polled.snapshot(Double(t)))
        }
        XCTAssertEqual(try evaluate(poll, polled.name, 20).status, .ok)
    }

    func testWithoutMessageStatsAStallIsUnknownButADrainIsSeen() throws {
        // Hung consumer, no ack counter: the depth alone cannot tell a stall from keeping pace.
        var hung = RabbitQueue()
        hung.ack = nil
        hung.messagesReady = 40
        var tracker = LagTracker()
        for t in 0...15 {
            hung.publish(1)
            tracker.record(hung.snapshot(Double(t)))
        }
        let g = try evaluate(tracker, hung.name, 15)
        XCTAssertEqual(g.status, .unknown)
        XCTAssertNotEqual(g.status, .ok)
        XCTAssertNil(g.partitions.first?.lastCommitAgeSeconds, "no progress figure: when it last consumed is unknown")
        XCTAssertNil(g.partitions.first?.consumeRate)

        // A falling depth is proof of consumption: OK, and it catches up at the pace it falls.
        var draining = RabbitQueue()
        draining.ack = nil
        draining.messagesReady = 400
        var drain = LagTracker()
        for t in 0...5 {
            if t > 0 { draining.messagesReady -= 20 }
            drain.record(draining.snapshot(Double(t)))
        }
        let d = try evaluate(drain, draining.name, 5)
        XCTAssertEqual(d.status, .ok)
        XCTAssertEqual(d.totalLag, 300)
        XCTAssertEqual(try XCTUnwrap(d.partitions.first?.catchUpSeconds), 15, accuracy: 1e-9)
        XCTAssertNil(d.partitions.first?.produceRate, "arrivals cannot be told without acks")
    }

    func testDrainingQueueCatchUpRatesAndHeadTimestamp() throws {
        var q = RabbitQueue()
        q.messagesReady = 400
        q.headMessageTimestamp = Int64(at(-40).timeIntervalSince1970)
        var tracker = LagTracker()
        for t in 0...5 {
            if t > 0 { q.publish(10); q.consume(30) }
            tracker.record(q.snapshot(Double(t)))
        }
        let g = try evaluate(tracker, q.name, 5)
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.lag, 300)
        XCTAssertEqual(p.status, .ok)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 30, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.catchUpSeconds), 15, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 45, accuracy: 1e-3, "from the head message timestamp")
        XCTAssertFalse(p.secondsBehindIsLowerBound)
        XCTAssertEqual(try XCTUnwrap(g.catchUpSeconds), 15, accuracy: 1e-9)
        if case .shrinking(let r) = g.trend { XCTAssertEqual(r, 20, accuracy: 1e-9) } else { XCTFail("\(g.trend)") }
    }

    func testAckCounterGoingBackIsAStatisticsResetNotARewind() throws {
        var q = RabbitQueue()
        q.messagesReady = 50
        var tracker = LagTracker()
        for t in 0...4 {
            q.publish(10); q.consume(10)
            tracker.record(q.snapshot(Double(t)))
        }
        q.ack = 3  // node restarted: counters start again
        tracker.record(q.snapshot(5))
        let p = try XCTUnwrap(try evaluate(tracker, q.name, 5).partitions.first)
        XCTAssertEqual(p.status, .ok)
        XCTAssertEqual(p.windowSamples, 1, "the window restarted")
    }
}

final class LagRedisStreamsGroupTests: XCTestCase {
    func testGroupKeepingUpIsOKWithTimeBehindFromEntriesAdded() throws {
        var r = RedisStreams()
        r.xadd("orders", 1000)
        r.readAndAck("orders", 950)
        var tracker = LagTracker()
        for t in 0...10 {
            if t > 0 { r.xadd("orders", 100); r.readAndAck("orders", 100) }
            r.streams["orders"]?.pel = 7
            tracker.record(r.snapshot(Double(t)))
        }
        let g = try evaluate(tracker, "billing", 10)
        XCTAssertEqual(g.status, .ok)
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.lag, 50)
        XCTAssertEqual(p.committed, 1950, "entries-read")
        XCTAssertEqual(p.high, 2000, "entries-added")
        XCTAssertEqual(p.reported?.inFlight, 7)
        // entries-added passed 1950 half a second before it reached 2000.
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 0.5, accuracy: 1e-9)
        XCTAssertFalse(p.secondsBehindIsLowerBound)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 100, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 100, accuracy: 1e-9)
    }

    func testLagReportedUnknownIsUnknownNotOK() throws {
        var r = RedisStreams()
        r.xadd("orders", 100)
        r.readAndAck("orders", 80)
        r.xadd("payments", 50)
        r.streams["payments"]?.lagValid = false  // an XDEL between the group and the end
        var tracker = LagTracker()
        for t in 0...3 { tracker.record(r.snapshot(Double(t))) }
        let g = try evaluate(tracker, "billing", 3)
        XCTAssertEqual(g.partitions.map(\.status), [.ok, .unknown])
        XCTAssertEqual(g.status, .unknown, "one partition cannot be evaluated: the group is not OK")
        XCTAssertEqual(g.partitions.map(\.lag), [20, nil])
        XCTAssertEqual(g.totalLag, 20)
        XCTAssertEqual(g.lagUnknownPartitions, 1)
        XCTAssertTrue(g.totalLagIsLowerBound)
        XCTAssertEqual(g.trend, .unknown)
        XCTAssertNil(g.catchUpSeconds)
        XCTAssertNil(g.partitions[1].secondsBehind)

        // Only unknown lag: no total at all, and nothing in the history as 0.
        var only = RedisStreams()
        only.xadd("payments", 50)
        only.streams["payments"]?.lagValid = false
        var blind = LagTracker()
        for t in 0...20 { blind.record(only.snapshot(Double(t))) }
        let b = try evaluate(blind, "billing", 20)
        XCTAssertEqual(b.status, .unknown)
        XCTAssertNil(b.totalLag)
        XCTAssertNil(b.maxLag)
        XCTAssertFalse(b.totalLagIsLowerBound)
        XCTAssertEqual(blind.lagHistory(group: "billing"), [])
    }

    func testSetIDBackIsRewind() throws {
        var r = RedisStreams()
        r.xadd("orders", 1000)
        r.readAndAck("orders", 900)
        var tracker = LagTracker()
        for t in 0...3 {
            r.xadd("orders", 10); r.readAndAck("orders", 10)
            tracker.record(r.snapshot(Double(t)))
        }
        r.streams["orders"]?.entriesRead -= 500  // XGROUP SETID to an older id
        tracker.record(r.snapshot(4))
        let p = try XCTUnwrap(try evaluate(tracker, "billing", 4).partitions.first)
        XCTAssertEqual(p.status, .rewind)
        XCTAssertEqual(p.lag, 600)
    }

    func testConsumersAttachedButNothingReadIsStallAndNoConsumersIsStop() throws {
        for consumers in [2, 0] {
            var r = RedisStreams()
            r.consumers = consumers
            r.xadd("orders", 100)
            r.readAndAck("orders", 95)
            var tracker = LagTracker()
            for t in 0...11 {
                r.xadd("orders", 10)
                tracker.record(r.snapshot(Double(t)))
            }
            // Inside the idle floor, consumers attached may yet read; with none and nothing seen read, it is STOP already.
            XCTAssertEqual(try evaluate(tracker, "billing", 10).status, consumers > 0 ? .ok : .stop, "inside the floor, consumers=\(consumers)")
            XCTAssertEqual(try evaluate(tracker, "billing", 11).status, consumers > 0 ? .stall : .stop)
        }
    }
}

final class LagJetStreamConsumerTests: XCTestCase {
    func testConsumerFallingBehindIsWarnWithTimeBehindFromTheAckFloor() throws {
        var c = JetStreamConsumer()
        c.publish(1000)
        c.consume(deliver: 1000, ack: 1000, at: 0)
        var tracker = LagTracker()
        for t in 0...10 {
            if t > 0 { c.publish(20); c.consume(deliver: 15, ack: 10, at: Double(t)) }
            tracker.record(c.snapshot(Double(t)))
            XCTAssertEqual(try evaluate(tracker, c.name, Double(t)).status, t < 10 ? .ok : .warn, "t=\(t)")
        }
        let g = try evaluate(tracker, c.name, 10)
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.lag, 100, "num_pending 50 + num_ack_pending 50")
        XCTAssertEqual(p.reported?.inFlight, 50)
        XCTAssertEqual(p.committed, 1101, "ack floor + 1")
        XCTAssertEqual(p.high, 1201)
        // The stream's end was at 1101 at t=5.
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 5, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 20, accuracy: 1e-9)
        XCTAssertNil(g.catchUpSeconds)
        if case .growing(let r) = g.trend { XCTAssertEqual(r, 10, accuracy: 1e-9) } else { XCTFail("\(g.trend)") }
    }

    func testAckFloorStandingStillIsStallWhenBoundAndStopWhenNot() throws {
        for bound in [true, false] {
            var c = JetStreamConsumer()
            c.pushBound = bound
            c.publish(600)
            c.consume(deliver: 550, ack: 500, at: 0)
            var tracker = LagTracker()
            for t in 0...11 {
                c.publish(10)
                tracker.record(c.snapshot(Double(t)))
            }
            XCTAssertEqual(try evaluate(tracker, c.name, 10).status, .ok, "bound=\(bound)")
            let g = try evaluate(tracker, c.name, 11)
            XCTAssertEqual(g.status, bound ? .stall : .stop)
            XCTAssertEqual(g.partitions.first?.lastCommitAgeSeconds, 11)
        }
        // The broker's ack_floor.last_active is authoritative: acks stopped before evtop started.
        var old = JetStreamConsumer()
        old.publish(600)
        old.consume(deliver: 550, ack: 500, at: -30)
        var tracker = LagTracker()
        tracker.record(old.snapshot(0))
        XCTAssertEqual(try evaluate(tracker, old.name, 0).status, .stall)
        XCTAssertEqual(try evaluate(tracker, old.name, 0).partitions.first?.lastCommitAgeSeconds, 30)
    }

    func testConsumerCatchingUp() throws {
        var c = JetStreamConsumer()
        c.publish(2000)
        c.consume(deliver: 1000, ack: 1000, at: 0)
        var tracker = LagTracker()
        for t in 0...5 {
            if t > 0 { c.publish(10); c.consume(deliver: 60, ack: 60, at: Double(t)) }
            tracker.record(c.snapshot(Double(t)))
        }
        let g = try evaluate(tracker, c.name, 5)
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.lag, 750)
        XCTAssertEqual(p.status, .ok)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 60, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.catchUpSeconds), 15, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(g.catchUpSeconds), 15, accuracy: 1e-9)
    }
}

final class LagReportedShapeTests: XCTestCase {
    func testUnknownRanksJustAboveOK() {
        XCTAssertEqual(max(LagStatus.ok, .unknown), .unknown)
        XCTAssertEqual(max(LagStatus.unknown, .warn), .warn)
        XCTAssertEqual(max(LagStatus.unknown, .stall), .stall)
        XCTAssertEqual(LagStatus.unknown.description, "UNKNOWN")
    }

    func testGroupStatusIsWorstPartitionAcrossShapes() throws {
        // One group, a Kafka-style committed offset on one topic and reported lag on a stream.
        let kafka = TopicPartition("orders", 0)
        let stream = TopicPartition("events", 0)
        var tracker = LagTracker()
        for t in 0...11 {
            let topics = [
                TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: Int64(100 + t))]),
                TopicInfo(name: "events", partitions: [PartitionWatermarks(partition: 0, low: 0, high: Int64(500 + 10 * t))]),
            ]
            let g = ConsumerGroup(id: "g", state: "Stable", members: 1, offsets: [kafka: Int64(100 + t)],
                                  reported: [stream: ReportedLag(pending: Int64(100 + 10 * t), position: 400)])
            tracker.record(BrokerSnapshot(time: at(Double(t)), topics: topics, groups: [g]))
        }
        let g = try evaluate(tracker, "g", 11)
        XCTAssertEqual(g.partitions.map(\.basis), [.reported, .offsets])
        XCTAssertEqual(g.partitions.map(\.status), [.stall, .ok])
        XCTAssertEqual(g.status, .stall)
        XCTAssertEqual(g.totalLag, 210)
        XCTAssertEqual(g.topics, ["events", "orders"])
    }

    func testCommittedOffsetWinsOverReportedLagForTheSamePartition() throws {
        let tp = TopicPartition("orders", 0)
        var tracker = LagTracker()
        let topic = TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 100)])
        tracker.record(BrokerSnapshot(time: at(0), topics: [topic], groups: [
            ConsumerGroup(id: "g", state: "Stable", members: 1, offsets: [tp: 90], reported: [tp: ReportedLag(pending: nil)]),
        ]))
        let g = try evaluate(tracker, "g", 0)
        XCTAssertEqual(g.partitions.count, 1)
        XCTAssertEqual(g.partitions.first?.basis, .offsets)
        XCTAssertEqual(g.totalLag, 10)
        XCTAssertEqual(g.status, .ok)
    }

    func testImpossibleFiguresAreErrorsNotLag() throws {
        let tp = TopicPartition("q", 0)
        var tracker = LagTracker()
        tracker.record(BrokerSnapshot(time: at(0), topics: [TopicInfo(name: "q", partitions: [PartitionWatermarks(partition: 0, depth: 3)])],
                                      groups: [ConsumerGroup(id: "g", state: "", members: 1, offsets: [:], reported: [tp: ReportedLag(pending: -4)])]))
        let p = try XCTUnwrap(try evaluate(tracker, "g", 0).partitions.first)
        XCTAssertEqual(p.status, .error)
        XCTAssertNil(p.lag, "a negative count is no lag")

        // The queue is gone but the group still reports on it.
        tracker.record(BrokerSnapshot(time: at(1), topics: [],
                                      groups: [ConsumerGroup(id: "g", state: "", members: 1, offsets: [:], reported: [tp: ReportedLag(pending: 2)])]))
        let gone = try evaluate(tracker, "g", 1)
        XCTAssertEqual(gone.status, .error)
        XCTAssertEqual(gone.partitions.first?.lag, 2)
    }

    func testDepthOnlyPartition() {
        let p = PartitionWatermarks(partition: 0, depth: 12)
        XCTAssertFalse(p.hasPositions)
        XCTAssertEqual(p.count, 12)
        XCTAssertEqual(TopicInfo(name: "q", partitions: [p]).retained, 12)
        XCTAssertTrue(PartitionWatermarks(partition: 0, low: 3, high: 10).hasPositions)
        XCTAssertEqual(PartitionWatermarks(partition: 0, low: 3, high: 10).count, 7)
    }

    func testConsumerGroupCodableWithAndWithoutReportedLag() throws {
        let tp = TopicPartition("q", 0)
        let g = ConsumerGroup(id: "g", state: "running", members: 2, offsets: [:],
                              reported: [tp: ReportedLag(pending: 5, acknowledged: 9, inFlight: 1)])
        let data = try JSONEncoder().encode(g)
        XCTAssertEqual(try JSONDecoder().decode(ConsumerGroup.self, from: data), g)
        // Written before `reported` existed.
        let old = #"{"id":"k","state":"Stable","members":1,"offsets":[{"topic":"t","partition":0},4],"commitTimesMillis":[]}"#
        let decoded = try JSONDecoder().decode(ConsumerGroup.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.offsets, [TopicPartition("t", 0): 4])
        XCTAssertEqual(decoded.reported, [:])
    }

    func testReportedWindowsStayBounded() {
        var q = RabbitQueue()
        q.messagesReady = 10
        var tracker = LagTracker()
        for t in 0..<2_000 {
            q.publish(3); q.consume(3)
            tracker.record(q.snapshot(Double(t)))
        }
        let c = tracker.storageCounts()
        XCTAssertEqual(c.window, tracker.configuration.windowSize)
        XCTAssertEqual(c.history, tracker.configuration.historyCapacity)
    }
}

/// LAST COMMIT before evtop has seen one happen: only how long it has watched, said as a lower bound.
final class LastCommitAgeTests: XCTestCase {
    func testAnOffsetNotSeenChangingGivesALowerBoundAndAChangeGivesTheAge() throws {
        var tracker = LagTracker()
        let tp = TopicPartition("orders", 0)
        func snapshot(_ t: Double, committed: Int64) -> BrokerSnapshot {
            BrokerSnapshot(time: Date(timeIntervalSince1970: 1_800_000_000 + t),
                           topics: [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: 500)])],
                           groups: [ConsumerGroup(id: "billing", state: "Empty", members: 0, offsets: [tp: committed])])
        }
        for t in 0...11 { tracker.record(snapshot(Double(t), committed: 200)) }
        let before = try XCTUnwrap(tracker.evaluate(group: "billing", now: Date(timeIntervalSince1970: 1_800_000_011))?.partitions.first)
        XCTAssertEqual(before.lastCommitAgeSeconds ?? -1, 11, accuracy: 0.01)
        XCTAssertTrue(before.lastCommitAgeIsLowerBound, "a consumer that exited before evtop started did not commit 11 s ago")

        tracker.record(snapshot(12, committed: 260))
        let after = try XCTUnwrap(tracker.evaluate(group: "billing", now: Date(timeIntervalSince1970: 1_800_000_014))?.partitions.first)
        XCTAssertEqual(after.lastCommitAgeSeconds ?? -1, 2, accuracy: 0.01)
        XCTAssertFalse(after.lastCommitAgeIsLowerBound)
    }
}
