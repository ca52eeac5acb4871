// Plain benchmark runner: ContinuousClock, median and p95, one line per figure (pasteable).
//
//   evtop-bench [--iterations N] [--records N] [--repeats N] [--spans N] [--ingest-batches N] [--only screen|store|lag|otlp]
//   (otlp knobs for experiments: EVTOP_BENCH_CONNECTIONS=4 client connections, EVTOP_BENCH_FILL_BATCH=5000 spans per
//   transaction when filling the lookup store)
import Dashboard
import EmbeddedStore
import EventModel
import EvtopBenchSupport
import Foundation
import TerminalUI

struct Options {
    var iterations = 200
    var records = 200_000
    var repeats = 3
    var only: String?
    var spans = 1_000_000
    var ingestBatches = 400

    init(_ args: [String]) {
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("missing value after \(args[i - 1])") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--iterations": iterations = Int(value()) ?? iterations
            case "--records": records = Int(value()) ?? records
            case "--repeats": repeats = Int(value()) ?? repeats
            case "--spans": spans = max(5, Int(value()) ?? spans)
            case "--ingest-batches": ingestBatches = max(1, Int(value()) ?? ingestBatches)
            case "--only":
                only = value()
                guard ["screen", "store", "lag", "otlp"].contains(only!) else { fail("--only takes screen, store, lag or otlp") }
            case "-h", "--help":
                print("usage: evtop-bench [--iterations N] [--records N] [--repeats N] [--spans N] [--ingest-batches N] [--only screen|store|lag|otlp]")
                exit(0)
            default: fail("unknown argument \(args[i])")
            }
            i += 1
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("evtop-bench: \(message)\n".utf8))
    exit(2)
}

func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

func ms(_ d: Duration) -> String { String(format: "%.2f ms", d.milliseconds) }

/// Keeps results alive so the optimizer cannot drop the work.
nonisolated(unsafe) var sink = 0

let options = Options(Array(CommandLine.arguments.dropFirst()))
let clock = ContinuousClock()
#if DEBUG
print("warning: debug build; figures mean little (use -c release)")
#endif

// MARK: - Topics screen

if options.only == nil || options.only == "screen" {
    let size = Size(width: 200, height: 60)
    let workload = TopicsWorkload(topics: 10_000)
    var state = workload.state(size: size, ticks: 12)
    var tick = 12
    // Two alternating frames a poll apart, so each diff has real changes (figures, clock).
    var next = state
    Reducer.reduce(&next, .snapshot(workload.snapshot(tick: tick)))
    let frames = [state, next]
    var previous = Screen.render(frames[1], theme: Theme.fallback)
    var total: [Duration] = [], render: [Duration] = [], diff: [Duration] = []
    var changed: [Int] = []
    let warmup = max(5, options.iterations / 10)
    for i in 0..<(warmup + options.iterations) {
        let frame = frames[i % 2]
        let t0 = clock.now
        let buffer = Screen.render(frame, theme: Theme.fallback)
        let t1 = clock.now
        let updates = buffer.diff(from: previous)
        let t2 = clock.now
        sink &+= updates.count
        previous = buffer
        if i >= warmup {
            total.append(t2 - t0); render.append(t1 - t0); diff.append(t2 - t1); changed.append(updates.count)
        }
    }
    let t = Stats(total), r = Stats(render), d = Stats(diff)
    let medianChanged = changed.sorted()[changed.count / 2]
    print("topics screen 200x60, \(grouped(workload.names.count)) topics (\(grouped(workload.partitionTotal)) partitions): "
        + "render+diff \(ms(t.median)) median, \(ms(t.p95)) p95 "
        + "(render \(ms(r.median)), diff \(ms(d.median)), \(grouped(medianChanged)) cells changed; n=\(options.iterations))")

    // Per poll: the reducer applies a snapshot (watermarks into the meter). Snapshots are built
    // outside the timed region.
    var ticks: [Duration] = []
    let tickRuns = max(20, options.iterations / 4)
    for i in 0..<(5 + tickRuns) {
        tick += 1
        let snapshot = workload.snapshot(tick: tick)
        let t0 = clock.now
        Reducer.reduce(&state, .snapshot(snapshot))
        let t1 = clock.now
        if i >= 5 { ticks.append(t1 - t0) }
    }
    sink &+= state.snapshot?.topics.count ?? 0
    let s = Stats(ticks)
    print("snapshot tick (meter, lag tracker, row derivation), \(grouped(workload.names.count)) topics: "
        + "\(ms(s.median)) median, \(ms(s.p95)) p95 (n=\(tickRuns))")
}

// MARK: - Embedded store

if options.only == nil || options.only == "store" {
    let batchSize = 500
    let count = options.records
    let records = StoreWorkload.records(first: 0, count: count)
    let batches = stride(from: 0, to: count, by: batchSize).map { Array(records[$0..<min(count, $0 + batchSize)]) }
    var appendRates: [Double] = [], readRates: [Double] = []
    for _ in 0..<max(1, options.repeats) {
        let (log, dir) = try await StoreWorkload.freshStore()
        let t0 = clock.now
        for batch in batches { try await log.produce(batch) }
        let t1 = clock.now
        let read = try await StoreWorkload.readAll(log, batch: 1_000)
        let t2 = clock.now
        guard read == count else { fail("read \(read) records, wrote \(count)") }
        appendRates.append(Double(count) / (t1 - t0).seconds)
        readRates.append(Double(count) / (t2 - t1).seconds)
        try? FileManager.default.removeItem(at: dir)
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    let bytes = StoreWorkload.averageValueBytes(Array(records.prefix(1_000)))
    print("store append, \(grouped(count)) records (batches of \(batchSize), ~\(bytes) B JSON + 3 headers): "
        + "\(grouped(Int(median(appendRates)))) records/s median of \(appendRates.count)")
    print("store read, \(grouped(count)) records (fetch 1,000 at a time, \(StoreWorkload.partitions) partitions): "
        + "\(grouped(Int(median(readRates)))) records/s median of \(readRates.count)")
}

// MARK: - Consumer lag

if options.only == nil || options.only == "lag" {
    // 1,000 groups × 100 partitions (100,000 group-partition offsets), default 10-sample window.
    // 12 one-second ticks fill the windows; then each tick's snapshot is built outside the timed
    // region and `record` and `evaluateAll` are timed separately.
    let workload = LagWorkload()
    var tracker = workload.warmTracker(ticks: 12)
    var record: [Duration] = [], evaluate: [Duration] = []
    let tickRuns = max(20, options.iterations / 5)
    var statuses: [LagStatus: Int] = [:]
    for i in 0..<tickRuns {
        let tick = 12 + i
        let snapshot = workload.snapshot(tick: tick)
        let now = workload.time(tick: tick)
        let (t0, t1, t2, lags) = withExtendedLifetime(snapshot) {
            let t0 = clock.now
            tracker.record(snapshot)
            let t1 = clock.now
            let lags = tracker.evaluateAll(now: now)
            let t2 = clock.now
            return (t0, t1, t2, lags)
        }
        record.append(t1 - t0); evaluate.append(t2 - t1)
        sink &+= lags.count
        if i == tickRuns - 1 {
            for g in lags { statuses[g.status, default: 0] += 1 }
            let partitions = lags.reduce(0) { $0 + $1.partitions.count }
            let short = lags.reduce(0) { $0 + $1.partitions.filter { $0.windowSamples < tracker.configuration.windowSize }.count }
            guard partitions == workload.groupPartitions, short == 0 else {
                fail("lag workload: \(partitions) partitions evaluated, \(short) with a window not full")
            }
        }
    }
    let window = tracker.configuration.windowSize
    let r = Stats(record), e = Stats(evaluate)
    let mix = LagStatus.allCases.compactMap { s in statuses[s].map { "\(grouped($0)) \(s)" } }.joined(separator: ", ")
    print("lag evaluation, \(grouped(workload.groupIDs.count)) groups × \(workload.partitions) partitions, "
        + "\(window)-sample window: record \(ms(r.median)) + evaluate \(ms(e.median)) per tick median "
        + "(p95 \(ms(r.p95)) + \(ms(e.p95)); "
        + "\(grouped(workload.groupPartitions)) group-partitions on \(grouped(workload.topicNames.count * workload.partitions)) partitions, "
        + "\(mix); n=\(tickRuns))")
}

// MARK: - OTLP ingest and span lookup

if options.only == nil || options.only == "otlp" {
    try await OTLPBench.run(lookupSpans: options.spans, ingestBatches: options.ingestBatches, clock: clock)
}

if sink == 42 { print("") }
