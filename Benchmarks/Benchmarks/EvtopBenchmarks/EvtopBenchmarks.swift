// The evtop workloads under ordo-one/benchmark: `swift package --package-path Benchmarks benchmark`.
// scripts/bench prints the pasteable figures with the plain runner (evtop-bench) instead.
import Benchmark
import Dashboard
import EmbeddedStore
import EventModel
import EvtopBenchSupport
import Foundation
import TerminalUI

/// Fixtures built once, on first use (global lets are initialized lazily and thread-safely).
struct ScreenFixture: Sendable {
    let workload: TopicsWorkload
    let frames: [AppState]
    let afterFrames: AppState

    init() {
        workload = TopicsWorkload(topics: 10_000)
        let first = workload.state(size: Size(width: 200, height: 60), ticks: 12)
        var second = first
        Reducer.reduce(&second, .snapshot(workload.snapshot(tick: 12)))
        frames = [first, second]
        afterFrames = second
    }
}

let screenFixture = ScreenFixture()

/// 1,000 groups × 100 partitions, windows full (12 ticks recorded).
struct LagFixture: Sendable {
    let workload = LagWorkload()
    let tracker: LagTracker
    init() { tracker = workload.warmTracker(ticks: 12) }
}

/// The tracker `record` advances, a tick per iteration across the benchmark's runs (which are
/// sequential; nothing else touches it). Its own tracker, not a copy of the fixture's: a shared
/// copy would be copied on the first write, inside the measurement.
final class LagRecorder: @unchecked Sendable {
    let workload: LagWorkload
    var tracker: LagTracker
    var tick = 12
    init(_ workload: LagWorkload) {
        self.workload = workload
        tracker = workload.warmTracker(ticks: 12)
    }
}

let lagFixture = LagFixture()
let lagRecorder = LagRecorder(lagFixture.workload)
let storeRecords = StoreWorkload.records(first: 0, count: 200_000)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(10))

    Benchmark("Topics screen render+diff 200x60, 10k topics",
              configuration: .init(timeUnits: .microseconds, maxIterations: 500)) { benchmark in
        let fixture = screenFixture
        var previous = Screen.render(fixture.frames[1], theme: Theme.fallback)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let buffer = Screen.render(fixture.frames[i % 2], theme: Theme.fallback)
            blackHole(buffer.diff(from: previous))
            previous = buffer
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Snapshot tick (meter update), 10k topics",
              configuration: .init(timeUnits: .microseconds, maxIterations: 200)) { benchmark in
        let fixture = screenFixture
        var state = fixture.afterFrames
        // A fresh snapshot one second later than any the state has seen.
        let snapshot = fixture.workload.snapshot(tick: 13 + benchmark.currentIteration)
        benchmark.startMeasurement()
        Reducer.reduce(&state, .snapshot(snapshot))
        benchmark.stopMeasurement()
        blackHole(state)
    }

    Benchmark("Lag record, 1,000 groups x 100 partitions, 10-sample window",
              configuration: .init(timeUnits: .milliseconds, maxIterations: 40)) { benchmark in
        // Snapshots one second apart, newer than any the tracker has seen, built outside the measurement.
        let recorder = lagRecorder
        let snapshots = benchmark.scaledIterations.map { _ in
            defer { recorder.tick += 1 }
            return recorder.workload.snapshot(tick: recorder.tick)
        }
        benchmark.startMeasurement()
        for snapshot in snapshots { recorder.tracker.record(snapshot) }
        benchmark.stopMeasurement()
        blackHole(snapshots)
    }

    Benchmark("Lag evaluateAll, 1,000 groups x 100 partitions, 10-sample window",
              configuration: .init(timeUnits: .milliseconds, maxIterations: 40)) { benchmark in
        let fixture = lagFixture
        let now = fixture.workload.time(tick: 11)  // the last snapshot recorded
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(fixture.tracker.evaluateAll(now: now))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Store append 200k records (batches of 500)",
              configuration: .init(metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds,
                                   maxIterations: 3)) { benchmark in
        let (log, dir) = try await StoreWorkload.freshStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        benchmark.startMeasurement()
        for start in stride(from: 0, to: storeRecords.count, by: 500) {
            try await log.produce(Array(storeRecords[start..<min(storeRecords.count, start + 500)]))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Store read 200k records (fetch 1,000 at a time)",
              configuration: .init(metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds,
                                   maxIterations: 3)) { benchmark in
        let (log, dir) = try await StoreWorkload.freshStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        for start in stride(from: 0, to: storeRecords.count, by: 500) {
            try await log.produce(Array(storeRecords[start..<min(storeRecords.count, start + 500)]))
        }
        benchmark.startMeasurement()
        blackHole(try await StoreWorkload.readAll(log, batch: 1_000))
        benchmark.stopMeasurement()
    }
}
