import XCTest
import Foundation
import Synchronization
import EventModel
import Dashboard
@testable import App

/// How the dashboard's background indexer is paced: slower while no sagas view is on screen, woken when
/// one opens, and a load from another view waits for a fresh call.
final class IndexPacingTests: XCTestCase {
    private func pending() -> PendingSagaLoader {
        PendingSagaLoader { SagaLoader(log: InMemoryLog(), assembler: SagaAssembler(rules: .default), index: nil, traces: nil) }
    }

    /// Wakes `sleep` until `ended` says the sleep ended: a wake may come before the sleep begins (then that
    /// sleep would run its course).
    private func wake(_ sleep: WakeableSleep, until ended: () -> Bool) async {
        while !ended() {
            sleep.wake()
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func testAWakeEndsASleepEarly() async {
        let sleep = WakeableSleep()
        let woke = Atomic<Bool>(false)
        let sleeper = Task {
            await sleep.sleep(for: .seconds(3_600))
            woke.store(true, ordering: .relaxed)
        }
        await wake(sleep, until: { woke.load(ordering: .relaxed) })
        await sleeper.value
        XCTAssertTrue(woke.load(ordering: .relaxed))
    }

    func testAnEarlierSleepsTimerDoesNotEndALaterSleep() async throws {
        let sleep = WakeableSleep()
        // A short sleep, woken at once: its timer is still pending when the long sleep begins.
        let firstEnded = Atomic<Bool>(false)
        let first = Task {
            await sleep.sleep(for: .milliseconds(300))
            firstEnded.store(true, ordering: .relaxed)
        }
        await wake(sleep, until: { firstEnded.load(ordering: .relaxed) })
        await first.value
        let ended = Atomic<Bool>(false)
        let second = Task {
            await sleep.sleep(for: .seconds(3_600))
            ended.store(true, ordering: .relaxed)
        }
        try await Task.sleep(for: .milliseconds(600))  // well past the first sleep's timer
        XCTAssertFalse(ended.load(ordering: .relaxed), "the first sleep's timer ended the second sleep")
        await wake(sleep, until: { ended.load(ordering: .relaxed) })
        await second.value
    }

    func testCancellingEndsASleepAsTaskSleepWould() async {
        let sleep = WakeableSleep()
        let sleeper = Task { await sleep.sleep(for: .seconds(3_600)) }
        sleeper.cancel()
        await sleeper.value
        // Cancelled before it began: it does not sleep either.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await sleep.sleep(for: .seconds(3_600))
        }
        await early.value
    }

    func testALoadWaitsForAFreshCallOnlyWhenTheIndexRestedLongerThanItsShownPace() async throws {
        let p = pending()
        // No background indexer: a load goes on at once.
        await p.awaitFreshIndex(limit: .seconds(3_600))

        // A call started just now: fresh enough.
        p.indexCallStarted(shownInterval: .seconds(3_600))
        p.indexCallEnded()
        await p.awaitFreshIndex(limit: .seconds(3_600))

        // The last call started longer ago than the shown pace: the load waits for the next call to end.
        p.indexCallStarted(shownInterval: .milliseconds(1))
        p.indexCallEnded()
        try await Task.sleep(for: .milliseconds(20))
        let done = Atomic<Bool>(false)
        let load = Task {
            // Far longer than the test waits below: a load that goes on in time was woken by the call.
            await p.awaitFreshIndex(limit: .seconds(120))
            done.store(true, ordering: .relaxed)
        }
        // The call comes once the load waits for it (a call before would not be one it waits for).
        for _ in 0..<3_000 where p.waitingLoads == 0 && !done.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(p.waitingLoads, 1, "the load waits for a fresh call")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertFalse(done.load(ordering: .relaxed), "the load went on before any fresh call")
        p.indexCallStarted(shownInterval: .milliseconds(1))
        p.indexCallEnded()
        for _ in 0..<3_000 where !done.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertTrue(done.load(ordering: .relaxed), "the call's end let the load go on")
        await load.value
    }

    func testOnlyTheSagaViewsCountAsShowingSagas() {
        XCTAssertTrue(ViewID.sagas.showsSagas)
        XCTAssertTrue(ViewID.sagaTimeline(id: "o-1").showsSagas)
        XCTAssertFalse(ViewID.topics.showsSagas)
        XCTAssertFalse(ViewID.registered(name: "insights", argument: "").showsSagas)
    }
}
