import XCTest
import Foundation
import Synchronization
@testable import App
#if canImport(Glibc)
import Glibc
#endif

/// The dashboard's passes run on one thread of their own, and its background threads run below it.
final class UIThreadTests: XCTestCase {
    @UIActor private static func whereAmI() -> Int32 { BackgroundPriority.currentThreadID() }

    func testUIActorJobsRunInOrderOnOneDedicatedThread() async throws {
        #if os(Linux)
        let ui = UIThreadExecutor.shared.threadID
        XCTAssertNotEqual(ui, 0)
        XCTAssertNotEqual(ui, getpid(), "not the process's main thread")
        var seen: Set<Int32> = []
        for _ in 0..<50 {
            seen.insert(await Self.whereAmI())
            // Between hops the caller may be on any pool thread; the UI's jobs never are.
            await Task.detached { await Task.yield() }.value
        }
        XCTAssertEqual(seen, [ui])
        // Jobs queued from many threads at once all run there too.
        let threads = await withTaskGroup(of: Int32.self) { group in
            for _ in 0..<200 { group.addTask { await Self.whereAmI() } }
            return await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        XCTAssertEqual(threads, [ui])
        #else
        throw XCTSkip("thread ids are read on Linux only")
        #endif
    }

    /// The queue the UI thread takes its jobs from: after a hand-over it holds no buffer, so what waits next
    /// starts a buffer of its own size. (A queue copied out and emptied "keeping capacity" kept a burst's
    /// buffer for good, and under the dashboard's heap policy asked for one a page larger each time.)
    func testHandingOverBatchesLeavesNoBufferToGrow() {
        var queue = HandOverQueue<Int>()
        var next = 0
        // A burst (the dashboard's first seconds) of more than 128 KiB of elements.
        for _ in 0..<40_000 { queue.append(next); next += 1 }
        XCTAssertEqual(queue.takeAll(), Array(0..<40_000))
        var largest = 0
        for round in 0..<2_000 {
            for _ in 0..<(1 + round % 3) { queue.append(next); next += 1 }
            largest = max(largest, queue.capacity)
            let batch = queue.takeAll()
            XCTAssertEqual(batch, Array((next - batch.count)..<next), "batches come out whole and in order")
            XCTAssertEqual(queue.capacity, 0)
        }
        XCTAssertLessThanOrEqual(largest, 16, "the waiting buffer kept the burst's size, or grew with use")
    }

    func testEveryThreadButTheUIAndMainOnesIsLoweredAndNothingIsRaised() throws {
        #if os(Linux)
        let tid = Mutex<Int32>(0)
        let done = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let thread = Thread {
            tid.withLock { $0 = BackgroundPriority.currentThreadID() }
            go.signal()
            done.wait()
        }
        thread.start()
        go.wait()
        defer { done.signal() }
        let worker = tid.withLock { $0 }
        let ui = UIThreadExecutor.shared.threadID
        // The rest of the suite runs in this process: its threads get their priorities back (as root, as
        // in CI; without the privilege to raise them they stay lowered), or every later test whose
        // threads compete with child processes (brokers, clients) runs at a tenth of their share.
        let before = Self.threadNiceness()
        defer { for (other, nice) in before { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(other), nice) } }
        let mainBefore = try XCTUnwrap(BackgroundPriority.niceness(ofThread: getpid()))
        let uiBefore = try XCTUnwrap(BackgroundPriority.niceness(ofThread: ui))
        XCTAssertLessThan(try XCTUnwrap(BackgroundPriority.niceness(ofThread: worker)), BackgroundPriority.niceness)
        XCTAssertGreaterThan(BackgroundPriority.lowerOthers(sparing: ui), 0)
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: worker), BackgroundPriority.niceness)
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: ui), uiBefore, "the UI thread keeps its priority")
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: getpid()), mainBefore)
        // Already lower: left alone (a thread someone set lower still is never raised).
        XCTAssertEqual(setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(worker), 15), 0)
        BackgroundPriority.lowerOthers(sparing: ui)
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: worker), 15)
        #else
        throw XCTSkip("thread priorities are set on Linux only")
        #endif
    }

    /// Every thread of this process and its niceness.
    static func threadNiceness() -> [(Int32, Int32)] {
        BackgroundPriority.threadIDs().compactMap { tid in BackgroundPriority.niceness(ofThread: tid).map { (tid, $0) } }
    }
}
