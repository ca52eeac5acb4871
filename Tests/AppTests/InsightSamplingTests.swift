import XCTest
import Foundation
import EventModel
import EmbeddedStore
@testable import App

/// The insights sampler on a real store: what it reads each tick, within its budget, and the smaller
/// budget it keeps while the insights view is off screen.
final class InsightSamplingTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-sampling-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func write(_ store: SQLiteLog, _ range: Range<Int>) async throws {
        try await store.produce(range.map { n in
            OutgoingRecord(topic: "orders", partition: Int32(n % 4), timestampMillis: 1_700_000_000_000 + Int64(n),
                           value: Array("{\"type\":\"OrderPlaced\",\"orderId\":\"o-\(n)\",\"n\":\(n)}".utf8))
        })
    }

    func testTheBudgetIsSmallWhileTheViewIsHiddenAndWholeWhileItShows() async throws {
        let store = try SQLiteLog(path: dir.appendingPathComponent("s.db").path)
        try await store.createTopic("orders", partitions: 4)
        let sampling = InsightSampling(rules: .default, plan: InsightSamplePlan(perTick: 1_000, perPartition: 250, backfill: 100),
                                       hiddenPerTick: InsightSampling.hiddenBudget)
        try await write(store, 0..<4_000)
        // Off screen: at most the hidden budget, the newest of each partition read (the backfill of a first sight).
        sampling.setShown(false)
        let hidden = await sampling.sample(store, snapshot: try await store.snapshot()) { _ in false }
        XCTAssertEqual(hidden.count, InsightSampling.hiddenBudget)
        XCTAssertEqual(Set(hidden.map(\.position.partition)), [0], "the budget ends in the first partition; the next tick goes on from the second")
        XCTAssertTrue(hidden.allSatisfy { $0.position.offset >= 900 }, "the newest records of the partition (a first sight's backfill)")
        // On screen: the whole budget, of what came since.
        try await write(store, 4_000..<8_000)
        sampling.setShown(true)
        let shown = await sampling.sample(store, snapshot: try await store.snapshot()) { _ in false }
        let perPartition = Dictionary(grouping: shown, by: \.position.partition).mapValues(\.count)
        XCTAssertEqual(perPartition, [0: 250, 1: 100, 2: 100, 3: 100],
                       "partition 0: a partition's share of its 1,000 new records; the others: a first sight's backfill")
        // Nothing new: nothing read, whatever the budget.
        let again = await sampling.sample(store, snapshot: try await store.snapshot()) { _ in false }
        XCTAssertTrue(again.isEmpty)
        XCTAssertEqual(shown.first?.eventType, "OrderPlaced", "records are parsed as the rules read them")
    }
}
