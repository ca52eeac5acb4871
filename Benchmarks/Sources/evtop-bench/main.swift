// Plain benchmark runner: ContinuousClock, median and p95, one line per figure (pasteable).
//
//   evtop-bench [--iterations N] [--records N] [--repeats N] [--saga-records N] [--spans N] [--ingest-batches N]
//               [--only screen|messages|store|lag|redrive|saga|otlp|extract]
//   (otlp: --ingest-batches N posts N requests into an empty store, then N more (sustained); knobs for experiments:
//   EVTOP_BENCH_BATCH=1000 spans per request, EVTOP_BENCH_CONNECTIONS=1 client connections, EVTOP_BENCH_FILL_BATCH=5000
//   spans per transaction when filling the lookup store)
import Dashboard
import Redrive
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
    var sagaRecords = 1_000_000
    var spans = 1_000_000
    var ingestBatches = 200

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
            case "--saga-records": sagaRecords = Int(value()) ?? sagaRecords
            case "--spans": spans = max(5, Int(value()) ?? spans)
            case "--ingest-batches": ingestBatches = max(1, Int(value()) ?? ingestBatches)
            case "--only":
                only = value()
                guard ["screen", "messages", "topics", "store", "lag", "redrive", "saga", "otlp", "extract"].contains(only!) else { fail("--only takes screen, messages, topics, store, lag, redrive, saga, otlp or extract") }
            case "-h", "--help":
                print("usage: evtop-bench [--iterations N] [--records N] [--repeats N] [--saga-records N] [--spans N] [--ingest-batches N] [--only screen|messages|topics|store|lag|redrive|saga|otlp|extract]")
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

// MARK: - Messages screen, tailing

if options.only == nil || options.only == "screen" || options.only == "messages" {
    MessagesBench.run(iterations: options.iterations)
}

// MARK: - Topics screen

if options.only == nil || options.only == "screen" || options.only == "topics" {
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
        let frame = timedFrame(frames[i % 2], after: &previous)
        if i >= warmup {
            total.append(frame.render + frame.diff); render.append(frame.render); diff.append(frame.diff); changed.append(frame.changed)
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

    // The insights analysis on the same state, per tick: the reducer takes in 100,000 sampled records
    // (what the poller posts), then the report is made (what view 5 and `evtop doctor` do). The records
    // are read from `Record`s as the sampler reads them, outside the timed region; that read is timed apart.
    let perTick = 100_000
    let insightRuns = max(5, options.iterations / 20)
    var ingest: [Duration] = [], evaluate: [Duration] = [], extract: [Duration] = []
    var findings = 0
    for run in 0..<(2 + insightRuns) {
        let records = InsightWorkload.records(topics: workload.names, count: perTick, tick: run)
        let t0 = clock.now
        let samples = records.map { InsightRecord($0, rules: .default) }
        let t1 = clock.now
        Reducer.reduce(&state, .insightsSampled(samples))
        let t2 = clock.now
        let report = InsightsModel.report(state)
        let t3 = clock.now
        findings = report.findings.count
        if run >= 2 { extract.append(t1 - t0); ingest.append(t2 - t1); evaluate.append(t3 - t2) }
    }
    let (x, g, e) = (Stats(extract), Stats(ingest), Stats(evaluate))
    print("insights tick, \(grouped(workload.names.count)) topics, \(grouped(perTick)) sampled records: ingest \(ms(g.median)) + evaluate \(ms(e.median)) median "
        + "(p95 \(ms(g.p95)) + \(ms(e.p95)); \(grouped(findings)) findings; reading the records from the log's bytes: \(ms(x.median)) median; n=\(insightRuns))")
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

// MARK: - Redrive

if options.only == nil || options.only == "redrive" {
    // Unthrottled redrive of Spring-style dead letters on the embedded store, through the journal
    // (intent, produce with evtop-redrive-id, done): every message costs two journal
    // transactions' share, a fetch share and a produce share (batches of 500).
    let letters = max(1_000, options.records / 10)
    var rates: [Double] = []
    for _ in 0..<max(1, options.repeats) {
        let (log, dir) = try await StoreWorkload.freshStore()
        try await log.createTopic("orders", partitions: 3)
        try await log.createTopic("orders.DLT", partitions: 3)
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func letter(_ i: Int) -> OutgoingRecord {
            var headers: [RecordHeader] = [RecordHeader("correlation-id", "ord-\(i)"), RecordHeader("event-type", "OrderPlaced")]
            headers.append(RecordHeader("kafka_dlt-original-topic", "orders"))
            headers.append(RecordHeader(name: "kafka_dlt-original-partition", value: be(Int32(i % 3))))
            headers.append(RecordHeader(name: "kafka_dlt-original-offset", value: be(Int64(i))))
            headers.append(RecordHeader("kafka_dlt-exception-fqcn", "java.lang.IllegalStateException"))
            let value = "{\"eventType\":\"OrderPlaced\",\"orderId\":\"ord-\(i)\",\"amount\":42.5,\"items\":[{\"sku\":\"sku-1\",\"qty\":2}]}"
            return OutgoingRecord(topic: "orders.DLT", partition: Int32(i % 3), timestampMillis: 1_700_000_000_000 + Int64(i),
                                  key: Array("ord-\(i)".utf8), headers: headers, value: Array(value.utf8))
        }
        let seed = (0..<letters).map(letter)
        for start in stride(from: 0, to: letters, by: 1_000) { try await log.produce(Array(seed[start..<min(letters, start + 1_000)])) }
        let positions = (0..<letters).map { i in RecordPosition(topic: "orders.DLT", partition: Int32(i % 3), offset: Int64(i / 3)) }
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: dir.appendingPathComponent("bench.db.redrive").path))
        let t0 = clock.now
        // With each letter's timestamp, as the dashboard and `evtop dlq requeue` ask (part of the redrive id).
        let stamps = Dictionary(uniqueKeysWithValues: positions.map { p in (p, 1_700_000_000_000 + p.offset * 3 + Int64(p.partition)) })
        let report = try await engine.run(RedriveRequest(sourceTopic: "orders.DLT", positions: positions,
                                                         selectionDescription: "bench", user: "bench", timestamps: stamps))
        let elapsed = clock.now - t0
        guard report.moved == letters else { fail("redrive moved \(report.moved) of \(letters)") }
        rates.append(Double(letters) / elapsed.seconds)
        try? FileManager.default.removeItem(at: dir)
    }
    print("redrive, \(grouped(letters)) dead letters, unthrottled, embedded store + journal (batches of \(RedriveEngine.maxBatch)): "
        + "\(grouped(Int(rates.sorted()[rates.count / 2]))) messages/s median of \(rates.count)")
}

// MARK: - Saga lookup

if options.only == nil || options.only == "saga" {
    // A store of `sagaRecords` records (five per saga, over the demo's topics), indexed by correlation ID,
    // then lookups of random sagas: index query, record fetches and assembly, as `evtop saga ID` does.
    let count = options.sagaRecords
    let (log, dir) = try await SagaWorkload.freshStore()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t0 = clock.now
    var produced = 0
    while produced < count {
        let n = min(5_000, count - produced)
        try await log.produce(SagaWorkload.records(first: produced, count: n))
        produced += n
    }
    let t1 = clock.now
    let index = try CorrelationIndex(path: log.path)
    let indexer = CorrelationIndexer(log: log, index: index, rules: .default, maxRecordsPerTick: 100_000)
    try await indexer.catchUpFully()
    let t2 = clock.now
    let indexed = try await index.indexedRecordCount()
    guard indexed == Int64(count) else { fail("indexed \(indexed) of \(count) records") }
    let assembler = SagaAssembler()
    let sagas = count / 5
    var query: [Duration] = [], full: [Duration] = []
    var rng = SystemRandomNumberGenerator()
    let lookups = max(50, options.iterations)
    for i in 0..<(10 + lookups) {
        let id = SagaWorkload.id(Int.random(in: 0..<max(1, sagas), using: &rng))
        let a = clock.now
        let refs = try await index.records(correlationID: id)
        let b = clock.now
        var records: [Record] = []
        for ref in refs {
            records += try await log.fetch(topic: ref.topic, partition: ref.partition, from: ref.offset, maxRecords: 1)
        }
        let timeline = assembler.assemble(correlationID: id, records: records, spans: [], now: Date())
        let c = clock.now
        guard timeline.items.count == 5 else { fail("saga \(id): \(timeline.items.count) items, expected 5") }
        sink &+= timeline.items.count
        if i >= 10 { query.append(b - a); full.append(c - a) }
    }
    let recentStart = clock.now
    let recent = try await index.recentCorrelations(limit: 500)
    let recentTime = clock.now - recentStart
    sink &+= recent.count
    let q = Stats(query), f = Stats(full)
    print("saga store, \(grouped(count)) records (\(grouped(sagas)) sagas × 5 events, 4 topics): "
        + "append \(grouped(Int(Double(count) / (t1 - t0).seconds))) records/s, "
        + "index catch-up \(grouped(Int(Double(count) / (t2 - t1).seconds))) records/s")
    print("saga lookup by correlation ID, \(grouped(count)) records indexed: index query \(ms(q.median)) median, \(ms(q.p95)) p95; "
        + "with record fetches + assembly \(ms(f.median)) median, \(ms(f.p95)) p95 (n=\(lookups)); "
        + "500 most recent sagas \(ms(recentTime))")
}

// MARK: - OTLP ingest and span lookup

if options.only == nil || options.only == "otlp" {
    try await OTLPBench.run(lookupSpans: options.spans, ingestBatches: options.ingestBatches, clock: clock)
}

// MARK: - Correlation extraction (the correlation indexer's per-record parse)

if options.only == nil || options.only == "extract" {
    ExtractBench.run(records: options.records, repeats: options.repeats, clock: clock)
}

if sink == 42 { print("") }
