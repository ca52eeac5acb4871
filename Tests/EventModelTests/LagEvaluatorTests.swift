import XCTest
import Foundation
@testable import EventModel

/// Hand-built snapshot sequences for every Burrow status, the edge cases, time lag,
/// trend, catch-up and bounded memory. Times are seconds after a fixed origin; no clock is read.
final class LagEvaluatorTests: XCTestCase {
    private let origin = Date(timeIntervalSinceReferenceDate: 700_000_000)

    private func at(_ s: Double) -> Date { origin.addingTimeInterval(s) }
    private func millis(_ s: Double) -> Int64 { Int64((at(s).timeIntervalSince1970 * 1000).rounded()) }

    private func topic(_ name: String, _ highs: [Int64], low: Int64 = 0) -> TopicInfo {
        TopicInfo(name: name, partitions: highs.enumerated().map {
            PartitionWatermarks(partition: Int32($0.offset), low: min(low, $0.element), high: $0.element)
        })
    }

    private func group(_ id: String, _ offsets: [TopicPartition: Int64], committedAt: Double? = nil,
                       state: String = "Stable", members: Int = 1) -> ConsumerGroup {
        var times: [TopicPartition: Int64] = [:]
        if let c = committedAt { for tp in offsets.keys { times[tp] = millis(c) } }
        return ConsumerGroup(id: id, state: state, members: members, offsets: offsets, commitTimesMillis: times)
    }

    private func snap(_ s: Double, _ topics: [TopicInfo], _ groups: [ConsumerGroup]) -> BrokerSnapshot {
        BrokerSnapshot(time: at(s), topics: topics, groups: groups)
    }

    private let p0 = TopicPartition("orders", 0)
    private let p1 = TopicPartition("orders", 1)

    private func status(_ tracker: LagTracker, _ g: String = "g", now: Double) -> LagStatus? {
        tracker.evaluate(group: g, now: at(now))?.status
    }

    /// Trend and catch-up from the same fit (issue 14 item 5): a lag falling by 0.5/s is within the dead
    /// band, so the trend is steady, and then there is no catch-up time either (before, the partition's
    /// own estimate said about 200 s beside "→ 0/s").
    func testSteadyTrendGivesNoCatchUpTime() throws {
        var tracker = LagTracker()
        for t in 0...40 {
            let high = Int64(1_000 + t * 10)
            let committed = Int64(900 + t * 10) + Int64(t) / 2   // lag 100 falling by 0.5 a second
            tracker.record(snap(Double(t), [topic("orders", [high])], [group("g", [p0: committed], committedAt: Double(t))]))
        }
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(40)))
        XCTAssertEqual(g.trend, .steady)
        XCTAssertNil(g.catchUpSeconds, "steady is not draining: no time to catch up")
        XCTAssertGreaterThan(g.totalLag ?? 0, 0)
    }

    // MARK: Statuses

    func testOKWhileZeroLagInWindowThenWarnWhenLagOnlyGrows() throws {
        var tracker = LagTracker()
        // Caught up at t=0, then consuming 5/s while producing 10/s: lag 0, 5, 10, ...
        for t in 0...10 {
            let high = Int64(100 + 10 * t)
            let committed = Int64(100 + 5 * t)
            tracker.record(snap(Double(t), [topic("orders", [high])], [group("g", [p0: committed])]))
            let s = status(tracker, now: Double(t))
            if t < 10 {
                XCTAssertEqual(s, .ok, "t=\(t): lag was 0 in the window")
            } else {
                XCTAssertEqual(s, .warn, "t=10: the zero-lag sample left the window, lag only grew")
            }
        }
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(10)))
        XCTAssertEqual(g.partitions.first?.windowSamples, 10)
        XCTAssertEqual(g.totalLag, 50)
    }

    func testConstantLagWithProgressIsOK() {
        var tracker = LagTracker()
        for t in 0...15 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + 10 * t)])],
                                [group("g", [p0: Int64(10 * t)])]))
        }
        XCTAssertEqual(status(tracker, now: 15), .ok)
    }

    func testStallWhenRecommittingSameOffset() throws {
        var tracker = LagTracker()
        for t in 0...5 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + 10 * t)])],
                                [group("g", [p0: 50], committedAt: Double(t))]))
            XCTAssertEqual(status(tracker, now: Double(t)), t == 0 ? .ok : .stall, "t=\(t)")
        }
        let p = try XCTUnwrap(tracker.evaluate(group: "g", now: at(5))?.partitions.first)
        XCTAssertEqual(p.lastCommitAgeSeconds, 0)
        XCTAssertEqual(p.lag, 100)
    }

    func testUnchangedOffsetWithoutCommitTimesIsStopAfterFloor() {
        // Without broker commit times a re-commit is invisible: it is STOP once the floor passes.
        var tracker = LagTracker()
        for t in 0...11 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + 10 * t)])], [group("g", [p0: 50])]))
        }
        XCTAssertEqual(status(tracker, now: 10), .ok)
        XCTAssertEqual(status(tracker, now: 11), .stop)
    }

    func testStopWhenNoCommitForLongerThanWindowSpans() {
        var tracker = LagTracker()
        // Commits every 2 s from t=0 to t=18 (10 samples, span 18 s), constant lag 100; then nothing.
        for t in 0...36 {
            let c = min(t, 18) / 2 * 2
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + 10 * t)])],
                                [group("g", [p0: Int64(10 * c)], committedAt: Double(c))]))
        }
        XCTAssertEqual(status(tracker, now: 36), .ok, "18 s since last commit = window span: not yet")
        tracker.record(snap(37, [topic("orders", [470])], [group("g", [p0: 180], committedAt: 18)]))
        XCTAssertEqual(status(tracker, now: 37), .stop)
    }

    func testRewindWhenCommittedOffsetGoesBack() {
        var tracker = LagTracker()
        let offsets: [Int64] = [10, 20, 30, 15]
        for (t, c) in offsets.enumerated() {
            tracker.record(snap(Double(t), [topic("orders", [1000])], [group("g", [p0: c])]))
        }
        XCTAssertEqual(status(tracker, now: 3), .rewind)
        // Once the rewind leaves the window (10 more progressing commits) it is no longer reported.
        for i in 1...10 {
            tracker.record(snap(Double(3 + i), [topic("orders", [1000])], [group("g", [p0: 15 + Int64(i)])]))
        }
        XCTAssertEqual(status(tracker, now: 13), .ok)
    }

    func testZeroLagInWindowTakesPrecedenceOverRewindAsInBurrow() {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [100])], [group("g", [p0: 100])]))
        tracker.record(snap(1, [topic("orders", [100])], [group("g", [p0: 40])]))
        XCTAssertEqual(status(tracker, now: 1), .ok, "a deliberate reset from caught up is not an alarm (Burrow)")
    }

    func testStopTakesPrecedenceOverEarlierZeroLag() {
        var tracker = LagTracker()
        // Caught up at t=0…9, then the consumer dies while the log keeps growing.
        for t in 0..<10 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + t)])], [group("g", [p0: Int64(100 + t)])]))
        }
        for t in 10..<60 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + t * 5)])], [group("g", [p0: 109])]))
        }
        XCTAssertEqual(status(tracker, now: 59), .stop)
    }

    func testErrorWhenCommittedBeyondHighWatermarkOrTopicGone() throws {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [100])], [group("g", [p0: 150])]))
        let p = try XCTUnwrap(tracker.evaluate(group: "g", now: at(0))?.partitions.first)
        XCTAssertEqual(p.status, .error)
        XCTAssertEqual(p.lag, 0, "negative lag is reported as error, never subtracted from totals")
        XCTAssertEqual(p.committed, 150)

        tracker.record(snap(1, [], [group("g", [p0: 90])]))
        let gone = try XCTUnwrap(tracker.evaluate(group: "g", now: at(1)))
        XCTAssertEqual(gone.status, .error)
        XCTAssertEqual(gone.partitions.map(\.high), [0])
        XCTAssertEqual(gone.topics, ["orders"])
    }

    func testGroupStatusIsWorstPartition() throws {
        var tracker = LagTracker()
        for t in 0...3 {
            let high = Int64(100 + 10 * t)
            // p0 caught up; p1 re-commits 50 (STALL).
            tracker.record(snap(Double(t), [topic("orders", [high, high])],
                                [group("g", [p0: high, p1: 50], committedAt: Double(t))]))
        }
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(3)))
        XCTAssertEqual(g.partitions.map(\.status), [.ok, .stall])
        XCTAssertEqual(g.status, .stall)
        XCTAssertEqual(g.totalLag, 80)
        XCTAssertEqual(g.maxLag, 80)
        XCTAssertEqual(LagStatus.allCases.sorted(), [.ok, .unknown, .warn, .stall, .stop, .rewind, .error])
        XCTAssertEqual(LagStatus.error.description, "ERR")
    }

    // MARK: Edge cases from the issue

    func testPartitionWithNoCommitYet() throws {
        var tracker = LagTracker()
        let t = TopicInfo(name: "orders", partitions: [
            PartitionWatermarks(partition: 0, low: 0, high: 100),
            PartitionWatermarks(partition: 1, low: 20, high: 70),
        ])
        tracker.record(snap(0, [t], [group("g", [p0: 100])]))
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(0)))
        XCTAssertEqual(g.partitions.count, 2)
        let p = g.partitions[1]
        XCTAssertNil(p.committed)
        XCTAssertEqual(p.lag, 50, "high − low: everything retained is unread")
        XCTAssertEqual(p.status, .ok)
        XCTAssertNil(p.secondsBehind)
        XCTAssertEqual(g.totalLag, 50)
        XCTAssertEqual(g.status, .ok)
        XCTAssertNil(g.catchUpSeconds, "an unconsumed partition never catches up by itself")
        XCTAssertEqual(tracker.lagHistory(group: "g"), [50])
    }

    /// Issue 14 item 4: a group that committed p1 only, 300 records on p0. Its time behind is not the 0 s
    /// of p1 presented as exact: a lower bound until p0's oldest record is read, then that record's age.
    func testUncommittedPartitionIsAsFarBehindAsItsOldestRecord() throws {
        var tracker = LagTracker()
        let orders = TopicInfo(name: "orders", partitions: [
            PartitionWatermarks(partition: 0, low: 0, high: 300),
            PartitionWatermarks(partition: 1, low: 0, high: 50),
        ])
        let committedP1 = group("g", [p1: 50])
        for t in 0...3 { tracker.record(snap(Double(t), [orders], [committedP1])) }
        let before = try XCTUnwrap(tracker.evaluate(group: "g", now: at(3)))
        XCTAssertEqual(before.totalLag, 300)
        XCTAssertTrue(before.secondsBehind == nil || before.secondsBehindIsLowerBound,
                      "p0's time behind is unknown: the group's \(String(describing: before.secondsBehind)) s is only a lower bound")

        // What the poller reads: p0 at its low watermark, the oldest retained record, written 120 s ago.
        let plan = RecordTimePlan.uncommitted(snap(3, [orders], [committedP1]))
        XCTAssertEqual(plan.map(\.0), [p0])
        XCTAssertEqual(plan.map(\.offset), [0])
        tracker.noteRecordTimes([RecordTime(p0, offset: 0, timestampMillis: millis(-117))])
        let after = try XCTUnwrap(tracker.evaluate(group: "g", now: at(3)))
        let part0 = try XCTUnwrap(after.partitions.first { $0.partition == 0 })
        XCTAssertEqual(try XCTUnwrap(part0.secondsBehind), 120, accuracy: 0.01)
        XCTAssertFalse(part0.secondsBehindIsLowerBound)
        XCTAssertEqual(try XCTUnwrap(after.secondsBehind), 120, accuracy: 0.01)
        XCTAssertFalse(after.secondsBehindIsLowerBound)
        XCTAssertEqual(try XCTUnwrap(tracker.evaluate(group: "g", now: at(13))?.secondsBehind), 130, accuracy: 0.01,
                       "read once, aged by the clock of each evaluation")

        // Retention deletes p0 below 100: the record read is gone, the figure is unknown again (not 130 s).
        let trimmed = TopicInfo(name: "orders", partitions: [
            PartitionWatermarks(partition: 0, low: 100, high: 300),
            PartitionWatermarks(partition: 1, low: 0, high: 50),
        ])
        tracker.record(snap(14, [trimmed], [committedP1]))
        XCTAssertEqual(RecordTimePlan.uncommitted(snap(14, [trimmed], [committedP1])).map(\.offset), [100], "read again at the new low")
        let stale = try XCTUnwrap(tracker.evaluate(group: "g", now: at(14)))
        XCTAssertNil(stale.partitions.first { $0.partition == 0 }?.secondsBehind)
        XCTAssertTrue(stale.secondsBehind == nil || stale.secondsBehindIsLowerBound)
        XCTAssertTrue(tracker.recordTimes.isEmpty, "times below the low watermark are forgotten")
    }

    /// A group's next record's time, when given, replaces the watermark history evtop did not observe.
    func testRecordTimeAtTheCommittedOffsetIsExact() throws {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [100])], [group("g", [p0: 40])]))
        tracker.noteRecordTimes([RecordTime(p0, offset: 40, timestampMillis: millis(-30))])
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(0)))
        XCTAssertEqual(try XCTUnwrap(g.secondsBehind), 30, accuracy: 0.01)
        XCTAssertFalse(g.secondsBehindIsLowerBound)
        XCTAssertEqual(RecordTimePlan.lagging([g], low: [p0: 0]).map(\.offset), [40])
    }

    func testGroupWithNoMembersIsEvaluatedAndStops() throws {
        var tracker = LagTracker()
        for t in 0...12 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(100 + 10 * t)])],
                                [group("g", [p0: 60], committedAt: 0, state: "Empty", members: 0)]))
        }
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(12)))
        XCTAssertEqual(g.state, "Empty")
        XCTAssertEqual(g.members, 0)
        XCTAssertEqual(g.status, .stop)
        XCTAssertEqual(g.totalLag, 160)
        XCTAssertEqual(g.partitions.first?.lastCommitAgeSeconds, 12)

        // An empty group with nothing to read is fine.
        var idle = LagTracker()
        for t in 0...12 {
            idle.record(snap(Double(t), [topic("orders", [60])],
                             [group("g", [p0: 60], committedAt: 0, state: "Empty", members: 0)]))
        }
        XCTAssertEqual(status(idle, now: 12), .ok)
    }

    func testWatermarkMovingBackResetsHistory() throws {
        var tracker = LagTracker()
        for t in 0...4 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(1000 + 100 * t)])],
                                [group("g", [p0: Int64(900 + 100 * t)])]))
        }
        // Topic deleted and recreated: high back to 5, group still at its old offset.
        tracker.record(snap(5, [topic("orders", [5])], [group("g", [p0: 1300])]))
        XCTAssertEqual(status(tracker, now: 5), .error)
        // Group reset to the new log: not a REWIND, old samples are gone.
        tracker.record(snap(6, [topic("orders", [15])], [group("g", [p0: 5])]))
        let p = try XCTUnwrap(tracker.evaluate(group: "g", now: at(6))?.partitions.first)
        XCTAssertEqual(p.status, .ok)
        XCTAssertEqual(p.lag, 10)
        XCTAssertEqual(p.windowSamples, 1)
        // Time lag from the new history only: high was 5 at t=5 and 15 at t=6.
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 1, accuracy: 1e-9)
        XCTAssertFalse(p.secondsBehindIsLowerBound)
        XCTAssertEqual(tracker.storageCounts().watermarks, 2)
    }

    func testPartitionAddedWhileWatching() throws {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [100])], [group("g", [p0: 100])]))
        tracker.record(snap(1, [topic("orders", [110, 0])], [group("g", [p0: 110])]))
        var g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(1)))
        XCTAssertEqual(g.partitions.map(\.partition), [0, 1])
        XCTAssertNil(g.partitions[1].committed)
        XCTAssertEqual(g.partitions[1].lag, 0)
        tracker.record(snap(2, [topic("orders", [120, 30])], [group("g", [p0: 120, p1: 10])]))
        tracker.record(snap(3, [topic("orders", [130, 40])], [group("g", [p0: 130, p1: 40])]))
        g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(3)))
        XCTAssertEqual(g.partitions[1].committed, 40)
        XCTAssertEqual(g.partitions[1].windowSamples, 2)
        XCTAssertEqual(g.status, .ok)
        XCTAssertEqual(g.totalLag, 0)
        XCTAssertEqual(g.catchUpSeconds, 0)
    }

    func testGroupThatCommitsRarelyIsNotFlagged() throws {
        for withCommitTimes in [true, false] {
            var tracker = LagTracker()
            var committed: Int64 = 0
            var committedAt = 0.0
            for t in 0...300 {
                let high = Int64(10 * t)
                if t % 60 == 0 { committed = max(0, high - 5); committedAt = Double(t) }
                tracker.record(snap(Double(t), [topic("orders", [high])],
                                    [group("g", [p0: committed], committedAt: withCommitTimes ? committedAt : nil)]))
                // Before the second commit the window is a single sample; from then on it spans a minute.
                if t >= 60 {
                    XCTAssertEqual(status(tracker, now: Double(t)), .ok, "t=\(t) commitTimes=\(withCommitTimes)")
                }
            }
            // At t=330 (no snapshot since 300): committed 2995, the log end passed it at t=299.5.
            tracker.record(snap(330, [topic("orders", [3300])], [group("g", [p0: 2995],
                                committedAt: withCommitTimes ? 300 : nil)]))
            let p = try XCTUnwrap(tracker.evaluate(group: "g", now: at(330))?.partitions.first)
            XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 30.5, accuracy: 1e-9)
            XCTAssertEqual(p.status, .ok)
            XCTAssertEqual(p.windowSamples, 6, "commits at 0, 60, …, 300")
        }
    }

    func testForgetsGroupsAndPartitionsThatDisappear() throws {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [10, 10]), topic("x", [5])],
                            [group("a", [p0: 10, p1: 10]), group("b", [TopicPartition("x", 0): 5])]))
        XCTAssertEqual(tracker.groupIDs, ["a", "b"])
        tracker.record(snap(1, [topic("orders", [10, 10])], [group("a", [p0: 10])]))
        XCTAssertEqual(tracker.groupIDs, ["a"])
        XCTAssertNil(tracker.evaluate(group: "b", now: at(1)))
        let a = try XCTUnwrap(tracker.evaluate(group: "a", now: at(1)))
        XCTAssertEqual(a.partitions.map(\.committed), [10, nil])
        XCTAssertEqual(tracker.watermarks.count, 2)
        XCTAssertEqual(tracker.evaluateAll(now: at(1)).map(\.id), ["a"])
    }

    func testOlderSnapshotIgnored() {
        var tracker = LagTracker()
        tracker.record(snap(5, [topic("orders", [100])], [group("g", [p0: 100])]))
        tracker.record(snap(4, [topic("orders", [0])], [group("g", [p0: 0])]))
        XCTAssertEqual(tracker.evaluate(group: "g", now: at(5))?.partitions.first?.committed, 100)
    }

    // MARK: Time lag

    func testSecondsBehindInterpolatesBetweenBracketingSamples() throws {
        var tracker = LagTracker()
        let highs: [Int64] = [0, 100, 100, 300]
        for (t, h) in highs.enumerated() {
            tracker.record(snap(Double(t), [topic("orders", [h])], [group("g", [p0: min(h, 250)])]))
        }
        // High was 100 until t=2, 300 at t=3: it passed 250 at t = 2 + 150/200 = 2.75.
        let p = try XCTUnwrap(tracker.evaluate(group: "g", now: at(3))?.partitions.first)
        XCTAssertEqual(p.lag, 50)
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 0.25, accuracy: 1e-9)
        XCTAssertFalse(p.secondsBehindIsLowerBound)
        // Evaluated later, the same point in time is further behind.
        let later = try XCTUnwrap(tracker.evaluate(group: "g", now: at(10))?.partitions.first)
        XCTAssertEqual(try XCTUnwrap(later.secondsBehind), 7.25, accuracy: 1e-9)
    }

    func testSecondsBehindExactStepAndZeroLag() throws {
        var step = LagTracker()
        step.record(snap(0, [topic("orders", [0])], [group("g", [p0: 0])]))
        step.record(snap(4, [topic("orders", [40])], [group("g", [p0: 10])]))
        // High went 0 → 40 between t=0 and t=4: it was at 10 at t=1, 9 s before now.
        let p = try XCTUnwrap(step.evaluate(group: "g", now: at(10))?.partitions.first)
        XCTAssertEqual(try XCTUnwrap(p.secondsBehind), 9, accuracy: 1e-9)
        XCTAssertFalse(p.secondsBehindIsLowerBound)
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [40])], [group("g", [p0: 40])]))
        XCTAssertEqual(tracker.evaluate(group: "g", now: at(100))?.partitions.first?.secondsBehind, 0)
    }

    func testSecondsBehindIsLowerBoundWhenOlderThanHistory() throws {
        var tracker = LagTracker()
        tracker.record(snap(0, [topic("orders", [1000])], [group("g", [p0: 500])]))
        tracker.record(snap(1, [topic("orders", [1010])], [group("g", [p0: 500])]))
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(6)))
        XCTAssertEqual(g.partitions.first?.secondsBehind, 6)
        XCTAssertEqual(g.partitions.first?.secondsBehindIsLowerBound, true)
        XCTAssertEqual(g.secondsBehind, 6)
        XCTAssertTrue(g.secondsBehindIsLowerBound)
    }

    // MARK: Trend, catch-up, history

    private func trend(lagAt: (Int) -> Int64) -> LagTrend? {
        var tracker = LagTracker()
        for t in 0...40 {
            let high: Int64 = 10_000 + Int64(t) * 100
            tracker.record(snap(Double(t), [topic("orders", [high])], [group("g", [p0: high - lagAt(t)])]))
        }
        return tracker.evaluate(group: "g", now: at(40))?.trend
    }

    func testTrendGrowingShrinkingSteady() throws {
        guard case .growing(let up)? = trend(lagAt: { 100 + 5 * Int64($0) }) else { return XCTFail("growing") }
        XCTAssertEqual(up, 5, accuracy: 1e-9)
        guard case .shrinking(let down)? = trend(lagAt: { 1000 - 7 * Int64($0) }) else { return XCTFail("shrinking") }
        XCTAssertEqual(down, 7, accuracy: 1e-9)
        XCTAssertEqual(trend(lagAt: { _ in 500 }), .steady)
        XCTAssertEqual(trend(lagAt: { 500 + Int64($0) / 2 }), .steady, "0.5/s is inside the dead band")
    }

    func testANoisyOrShortHistoryNamesNoTrendAndNoCatchUp() throws {
        // Batch commits: lag jumps between 100 and 1,900 with a small drift down. A fitted -4/s would
        // promise a catch-up time the next refresh contradicts.
        XCTAssertEqual(trend(lagAt: { t in (t % 2 == 0 ? 1_900 : 100) - 4 * Int64(t) }), .unsettled)
        var tracker = LagTracker()
        for t in 0...40 {
            let high: Int64 = 10_000 + Int64(t) * 100
            tracker.record(snap(Double(t), [topic("orders", [high])], [group("g", [p0: high - ((t % 2 == 0 ? 1_900 : 100) - 4 * Int64(t))])]))
        }
        let noisy = try XCTUnwrap(tracker.evaluate(group: "g", now: at(40)))
        XCTAssertNil(noisy.catchUpSeconds, "no catch-up from a fit that explains nothing")
        // Two seconds of history is not a trend yet either (it was "→ 0/s", steady).
        var young = LagTracker()
        for t in 0...2 { young.record(snap(Double(t), [topic("orders", [Int64(1000 + 10 * t)])], [group("g", [p0: 0])])) }
        XCTAssertEqual(young.evaluate(group: "g", now: at(2))?.trend, .unsettled)
    }

    func testCatchUpTime() throws {
        var tracker = LagTracker()
        // Producing 10/s, consuming 20/s, lag 1000 at t=0.
        for t in 0...5 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(1000 + 10 * t)])],
                                [group("g", [p0: Int64(20 * t)])]))
        }
        let g = try XCTUnwrap(tracker.evaluate(group: "g", now: at(5)))
        let p = try XCTUnwrap(g.partitions.first)
        XCTAssertEqual(p.lag, 950)
        XCTAssertEqual(try XCTUnwrap(p.consumeRate), 20, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.produceRate), 10, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(g.catchUpSeconds), 95, accuracy: 1e-9)
        if case .shrinking(let r) = g.trend { XCTAssertEqual(r, 10, accuracy: 1e-9) } else { XCTFail("\(g.trend)") }

        // Consuming slower than producing: never.
        var slow = LagTracker()
        for t in 0...5 {
            slow.record(snap(Double(t), [topic("orders", [Int64(1000 + 10 * t)])], [group("g", [p0: Int64(5 * t)])]))
        }
        XCTAssertNil(try XCTUnwrap(slow.evaluate(group: "g", now: at(5))).catchUpSeconds)
    }

    func testLagHistoryOneValuePerBucket() {
        var tracker = LagTracker()
        for t in 0...20 {
            tracker.record(snap(Double(t), [topic("orders", [Int64(10 * t)])], [group("g", [p0: 0])]))
        }
        XCTAssertEqual(tracker.lagHistory(group: "g"), [0, 50, 100, 150, 200])
        // A 20 s gap fills the buckets it spans.
        tracker.record(snap(40, [topic("orders", [400])], [group("g", [p0: 0])]))
        XCTAssertEqual(tracker.lagHistory(group: "g"), [0, 50, 100, 150, 200, 400, 400, 400, 400])
        XCTAssertEqual(tracker.lagHistory(group: "nope"), [])
    }

    // MARK: Bounds and scale

    func testMemoryStaysBoundedAfterTenThousandRecords() {
        let config = LagTracker.Configuration()
        var tracker = LagTracker(configuration: config)
        for t in 0..<10_000 {
            let high = Int64(t * 3)
            tracker.record(snap(Double(t), [topic("orders", [high, high])],
                                [group("g", [p0: high - 2, p1: Int64(t)], committedAt: Double(t)),
                                 group("h", [p0: high])]))
        }
        let c = tracker.storageCounts()
        XCTAssertEqual(c.window, config.windowSize)
        XCTAssertLessThanOrEqual(c.watermarks, config.watermarkHistoryCapacity)
        XCTAssertLessThanOrEqual(c.trend, Int(config.trendSeconds) + 2)
        XCTAssertEqual(c.history, config.historyCapacity)
    }

    func testThousandGroupsOfHundredPartitions() throws {
        // 10 topics × 10 partitions, 1,000 groups each committed on all 100: 100,000 partition
        // states per tick. Checks results only; cost is measured outside the test suite.
        let topicNames = (0..<10).map { "t\($0)" }
        var tracker = LagTracker()
        for tick in 0..<3 {
            let high = Int64(1000 + tick * 100)
            let topics = topicNames.map { topic($0, Array(repeating: high, count: 10)) }
            var offsets: [TopicPartition: Int64] = [:]
            for name in topicNames { for p in 0..<10 { offsets[TopicPartition(name, Int32(p))] = high - 10 } }
            let groups = (0..<1000).map { ConsumerGroup(id: "g\($0)", state: "Stable", members: 1, offsets: offsets) }
            tracker.record(snap(Double(tick), topics, groups))
        }
        let all = tracker.evaluateAll(now: at(2))
        XCTAssertEqual(all.count, 1000)
        XCTAssertEqual(all[0].partitions.count, 100)
        XCTAssertEqual(all[0].totalLag, 1000)
        XCTAssertEqual(tracker.storageCounts().window, 3)
    }
}

final class LagSamplingCadenceTests: XCTestCase {
    /// Commits every 100 ms must still build a window of samples about a second apart,
    /// so that a consumer that then stops is STOP after the window's span, not never.
    func testFrequentCommitsBuildAFullWindowAndStopIsDetected() throws {
        var tracker = LagTracker()
        let tp = TopicPartition("orders", 0)
        func snapshot(_ t: Double, high: Int64, committed: Int64, commitAt: Double) -> BrokerSnapshot {
            BrokerSnapshot(time: Date(timeIntervalSinceReferenceDate: t),
                           topics: [TopicInfo(name: "orders", partitions: [PartitionWatermarks(partition: 0, low: 0, high: high)])],
                           groups: [ConsumerGroup(id: "g", state: "Stable", members: 1, offsets: [tp: committed],
                                                  commitTimesMillis: [tp: Int64((commitAt + 978_307_200) * 1000)])])
        }
        var t = 0.0
        var lastCommitted: Int64 = 0
        while t < 30 {
            // Consumer keeps pace but one record behind at each commit.
            lastCommitted = Int64(t * 100)
            tracker.record(snapshot(t, high: lastCommitted + 1, committed: lastCommitted, commitAt: t))
            t += 0.1
        }
        let running = try XCTUnwrap(tracker.evaluate(group: "g", now: Date(timeIntervalSinceReferenceDate: t)))
        XCTAssertEqual(running.partitions.first?.windowSamples, 10)
        XCTAssertEqual(running.status, .ok)
        // It stops committing; the log keeps growing.
        let stoppedAt = t
        while t < stoppedAt + 15 {
            tracker.record(snapshot(t, high: Int64(t * 100) + 1, committed: lastCommitted, commitAt: stoppedAt - 0.1))
            t += 0.5
        }
        XCTAssertEqual(tracker.evaluate(group: "g", now: Date(timeIntervalSinceReferenceDate: t))?.status, .stop)
    }
}
