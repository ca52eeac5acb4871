import Foundation
import Synchronization
import EventModel
import EmbeddedStore
import Dashboard
import TerminalUI

/// Loads sagas for the dashboard and `evtop saga`: through the correlation index when it can be kept
/// (the embedded store opened read-write, or a local index file for a Kafka cluster), else by a bounded
/// scan of the newest records, and says which.
final class SagaLoader: Sendable {
    let log: any LogReader
    let assembler: SagaAssembler
    let index: CorrelationIndex?
    let indexer: CorrelationIndexer?
    let traces: (any TraceStore)?
    /// Why there is no index (shown with scanned results), nil when there is one.
    let fallbackReason: String?
    /// For a tapped source (RabbitMQ): the tap recording into the store this loader reads, or why none runs.
    let tap: TapStatus?
    /// The source's clock (a recording's stands still).
    let clock: @Sendable () -> Date
    /// True for a recording: records and spans later than its clock are not shown (they had not happened yet).
    let cutsAtClock: Bool
    /// The indexer's last report (nil before its first call).
    private let progress = Mutex<CorrelationIndexer.Progress?>(nil)

    /// Newest records read per scan when there is no index.
    static let scanLimit = 20_000
    /// Records and spans read per saga at most.
    static let maxItemsPerSaga = 1_000
    /// Bytes of a record value kept for the detail pane (bounded memory: items × this at most).
    static let maxValueBytes = 64 * 1024
    /// Index records per saga read for the list.
    static let maxRefsPerListRow = 200
    /// Traces followed from `traceparent` headers per saga at most.
    static let maxTraces = 20

    /// Records indexed from the head of the log on a cold start, for the dashboard, before older ones are
    /// filled in backwards: the sagas of the last minutes are there within a second or two.
    static let recentFirst = 200_000

    /// `indexes`: whether this loader keeps a writable index caught up (false for a tap's loader: its
    /// recorder indexes each batch as it lands, and two indexers of one file would only race).
    /// `recentFirst`: see ``CorrelationIndexer/recentFirst`` (nil: oldest first, as the command line wants).
    init(log: any LogReader, assembler: SagaAssembler, index: CorrelationIndex?, traces: (any TraceStore)? = nil,
         fallbackReason: String? = nil, tap: TapStatus? = nil, indexes: Bool = true, recentFirst: Int? = nil,
         clock: @escaping @Sendable () -> Date = Date.init, cutsAtClock: Bool = false) {
        self.log = log
        self.clock = clock
        self.cutsAtClock = cutsAtClock
        self.assembler = assembler
        self.index = index
        self.indexer = index.flatMap {
            indexes && $0.writable ? CorrelationIndexer(log: log, index: $0, rules: assembler.rules, recentFirst: recentFirst) : nil
        }
        self.traces = traces
        self.fallbackReason = index == nil ? (fallbackReason ?? "no correlation index") : nil
        self.tap = tap
    }

    /// The loader for a source, from its identity: an index inside a store file unless read-only; for a
    /// source that is not a file (Kafka), a local index file named after its identity, kept with --read-only
    /// too (it is evtop's own file, fed by reads that never commit). Without an identity (a cluster down at
    /// start), a bounded scan, and the loader says why. Spans are joined when the source keeps them.
    static func make(_ source: OpenedSource, readOnly: Bool, assembler: SagaAssembler, recentFirst: Int? = nil,
                     tapRetention: RecordRetentionPolicy = .standard) async -> SagaLoader {
        if let tapFile = source.tapFile {
            return await tapped(source, file: tapFile, readOnly: readOnly, assembler: assembler, retention: tapRetention)
        }
        let log = source.reader
        let traces = source.traces
        guard let identity = await log.identity() else {
            return SagaLoader(log: log, assembler: assembler, index: nil, traces: traces,
                              fallbackReason: "no index (the source did not say its identity at start)")
        }
        let path: String
        if let store = identity.storeFile, source.playback != nil {
            // A recording was indexed whole when it was made: read its index, never write it.
            do {
                return SagaLoader(log: log, assembler: assembler, index: try CorrelationIndex(path: store, readOnly: true), traces: traces,
                                  clock: { source.now }, cutsAtClock: true)
            } catch {
                return SagaLoader(log: log, assembler: assembler, index: nil, traces: traces, fallbackReason: "no index in the recording (\(error))",
                                  clock: { source.now }, cutsAtClock: true)
            }
        }
        if let store = identity.storeFile {
            guard !readOnly else {
                return SagaLoader(log: log, assembler: assembler, index: nil, traces: traces, fallbackReason: "read-only")
            }
            path = store
        } else {
            path = SourceFiles.indexPath(of: identity)
        }
        do {
            if identity.storeFile == nil { try Paths.ensureParent(of: path) }
            return SagaLoader(log: log, assembler: assembler, index: try CorrelationIndex(path: path), traces: traces,
                              recentFirst: recentFirst)
        } catch {
            return SagaLoader(log: log, assembler: assembler, index: nil, traces: traces,
                              fallbackReason: identity.storeFile == nil ? "no index (\(path): \(error))" : "no index (\(error))")
        }
    }

    /// The loader of a source whose queues are consumed destructively (RabbitMQ): sagas are read from the
    /// tap's local store (records and index inside it, as for a `sqlite:` store), never from the service
    /// queues. When the source can tap (opened writable: the dashboard, `evtop collect`), the tap starts
    /// here and records into that store for as long as the process runs; read-only, no tap queue is made.
    static func tapped(_ source: OpenedSource, file: TapStoreFile, readOnly: Bool, assembler: SagaAssembler,
                       retention: RecordRetentionPolicy = .standard) async -> SagaLoader {
        let idle: String
        if readOnly {
            idle = "read-only: no tap queue; sagas from what an earlier run recorded"
        } else {
            idle = "sagas from the tap's store (what the dashboard or `evtop collect` recorded)"
        }
        switch await file.open() {
        case .nothingTapped(let path):
            let note = readOnly ? "read-only: no tap queue; nothing was recorded by an earlier run"
                : "nothing was ever tapped for \(source.description) (no \(path)): run the dashboard or `evtop collect --broker URL` to record sagas"
            return SagaLoader(log: InMemoryLog(sourceDescription: "tap:"), assembler: assembler, index: nil, traces: nil,
                              fallbackReason: note, tap: TapStatus(run: nil, idleNote: note))
        case .failed(let why):
            return SagaLoader(log: InMemoryLog(sourceDescription: "tap:"), assembler: assembler, index: nil, traces: nil,
                              fallbackReason: "no tap store (\(why))", tap: TapStatus(run: nil, idleNote: "no tap store: \(why)"))
        case .store(let store):
            let index: CorrelationIndex
            do {
                index = try CorrelationIndex(path: store.path, readOnly: store.mode == .readOnly)
            } catch {
                return SagaLoader(log: store, assembler: assembler, index: nil, traces: file,
                                  fallbackReason: "no index in the tap store (\(error))", tap: TapStatus(run: nil, idleNote: idle))
            }
            guard let tap = source.tap, !readOnly, index.writable else {
                return SagaLoader(log: store, assembler: assembler, index: index, traces: file, tap: TapStatus(run: nil, idleNote: idle))
            }
            let indexer = CorrelationIndexer(log: store, index: index, rules: assembler.rules)
            let recorder = TapRecorder(store: store, indexer: indexer, retention: retention)
            let run = tap.startTap(exchanges: source.tapExchanges, deliver: { try await recorder.write($0) })
            return SagaLoader(log: store, assembler: assembler, index: index, traces: file, tap: TapStatus(run: run, idleNote: nil),
                              indexes: false)
        }
    }

    /// Stops the tap, if this loader runs one (the server then deletes the tap queue).
    func stopTap() async {
        await tap?.run?.stop()
    }

    /// Indexes what is new, bounded per call (the run loop calls it every refresh).
    @discardableResult
    func catchUp(snapshot: BrokerSnapshot? = nil) async throws -> CorrelationIndexer.Progress? {
        guard let indexer else { return nil }
        let progress = try await indexer.catchUp(snapshot: snapshot)
        self.progress.withLock { $0 = progress }
        return progress
    }

    /// Indexes everything (for the command line).
    func catchUpFully() async throws {
        guard let indexer else { return }
        try await indexer.catchUpFully()
        progress.withLock { $0 = CorrelationIndexer.Progress(read: 0, indexed: 0, remaining: 0) }
    }

    /// What the views say about where sagas come from.
    var note: String { note(now: clock()) }

    /// The moment loads are judged at: now, or a recording's clock.
    var now: Date { clock() }

    /// True while this loader's indexer has not caught up with the log yet (before its first call, behind
    /// the heads, or older records still to fill in): what a load answers now may grow, so an open
    /// timeline is asked again until it is settled.
    var indexing: Bool {
        guard indexer != nil else { return false }
        guard let p = progress.withLock({ $0 }) else { return true }
        return p.remaining > 0 || p.backfill > 0
    }

    /// What the views say about where sagas come from, at `now`.
    func note(now: Date) -> String {
        // Before the indexer's first call nothing says how far behind it is: it is not "index" yet.
        let indexing = indexer != nil && progress.withLock({ $0 }) == nil
            ? "indexing: starting" : progress.withLock { $0 }.flatMap { Self.indexingNote($0, now: now) }
        if let tap {
            // A tapped source: where its sagas come from says more than the index's state.
            return tap.note + (indexing.map { "; \($0)" } ?? "")
        }
        if let fallbackReason { return "\(fallbackReason): newest \(NumberFormat.groupedText(Self.scanLimit)) scanned" }
        return indexing ?? "index"
    }

    /// How far the index is behind the log, nil when it is not: records and, when known, seconds of
    /// traffic not indexed yet, then the older records still to fill in on a cold start. Pure.
    static func indexingNote(_ p: CorrelationIndexer.Progress, now: Date) -> String? {
        var parts: [String] = []
        if p.remaining > 0 {
            var text = "indexing: \(NumberFormat.groupedText(Int(p.remaining))) behind"
            if let ms = p.indexedUpToMillis {
                let seconds = max(0, now.timeIntervalSince1970 - Double(ms) / 1000)
                text += " (\(NumberFormat.duration(seconds: seconds)))"
            }
            parts.append(text)
        }
        if p.backfill > 0 { parts.append("\(NumberFormat.groupedText(Int(p.backfill))) older to index") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    // MARK: - List

    /// The most recently active sagas, newest first: sagas known from records (the index, or a bounded
    /// scan) and sagas known from spans (the span store's correlation IDs) together, each once, by its
    /// newest record or span. A row is judged from its records and spans, as its timeline is.
    func recent(limit: Int, now: Date) async throws -> [SagaListRow] {
        guard limit > 0 else { return [] }
        var recordActivity: [(id: String, lastMillis: Int64)] = []
        var recordCounts: [String: Int] = [:]
        var scanned: [String: [SagaEventRef]] = [:]
        if let index {
            for summary in try await index.recentCorrelations(limit: limit) {
                recordActivity.append((summary.correlationID, summary.lastMillis))
                recordCounts[summary.correlationID] = summary.records
            }
        } else {
            try await scan { record, extraction in
                guard let cid = extraction.correlationID, (scanned[cid]?.count ?? 0) < Self.maxRefsPerListRow else { return }
                scanned[cid, default: []].append(SagaEventRef(topic: record.topic, partition: record.partition, offset: record.offset,
                                                              timestampMillis: record.timestampMillis, eventType: extraction.eventType))
            }
            for (cid, refs) in scanned { recordActivity.append((cid, refs.map(\.timestampMillis).max() ?? 0)) }
        }
        let listing = traces as? any SpanCorrelationListing
        let spanActivity = try await listing?.recentSpanCorrelations(limit: limit) ?? []
        var rows: [SagaListRow] = []
        for id in Self.newestFirst(records: recordActivity, spans: spanActivity, limit: limit) {
            let refs: [SagaEventRef]
            if let index {
                // A saga listed for its spans may have older records: they belong on its row too.
                refs = try await index.records(correlationID: id, limit: Self.maxRefsPerListRow)
            } else {
                refs = scanned[id] ?? []
            }
            let spans = happened(try await traces?.spans(correlationID: id, limit: Self.maxRefsPerListRow) ?? [], by: now)
            let shown = happened(refs, by: now)
            // On a recording, a saga that only begins after the clock is not listed yet.
            if cutsAtClock, shown.isEmpty, spans.isEmpty { continue }
            var row = SagaListRow(timeline: assembler.summarize(correlationID: id, events: shown, spans: spans, now: now))
            row.items = max(row.items, (cutsAtClock ? shown.count : recordCounts[id] ?? refs.count) + spans.count)
            rows.append(row)
        }
        return rows
    }

    /// The `limit` correlation IDs with the newest activity, each once: an ID's activity is the later of its
    /// newest record (ms) and its newest span start (ns); ties by ID, descending (as the index orders).
    /// Exact when each input holds its own newest `limit` (an ID in the merged top `limit` is in the top
    /// `limit` of the side its newest activity is on).
    static func newestFirst(records: [(id: String, lastMillis: Int64)], spans: [SpanCorrelationSummary], limit: Int) -> [String] {
        var newest: [String: Int64] = [:]
        for r in records { newest[r.id] = max(newest[r.id] ?? .min, r.lastMillis) }
        for s in spans {
            let millis = Int64(clamping: s.lastStartUnixNano / 1_000_000)
            newest[s.correlationID] = max(newest[s.correlationID] ?? .min, millis)
        }
        let ordered = newest.sorted { a, b in a.value != b.value ? a.value > b.value : a.key > b.key }
        return ordered.prefix(max(0, limit)).map(\.key)
    }

    /// `refs` without those after a recording's clock (all of them for a live source).
    private func happened(_ refs: [SagaEventRef], by now: Date) -> [SagaEventRef] {
        guard cutsAtClock else { return refs }
        let cutoff = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        return refs.filter { $0.timestampMillis <= cutoff }
    }

    /// `spans` without those that started after a recording's clock (all of them for a live source).
    private func happened(_ spans: [EventModel.Span], by now: Date) -> [EventModel.Span] {
        guard cutsAtClock else { return spans }
        let cutoff = UInt64(max(0, now.timeIntervalSince1970) * 1e9)
        return spans.filter { $0.startUnixNano <= cutoff }
    }

    // MARK: - Timeline

    /// One saga's timeline: its records (through the index or a scan) and spans (when a trace store is attached).
    func timeline(id: String, now: Date) async throws -> SagaTimeline {
        var records: [Record] = []
        if let index {
            for ref in try await index.records(correlationID: id, limit: Self.maxItemsPerSaga) {
                // Retention may have deleted an indexed record: skip it.
                let fetched = try await log.fetch(topic: ref.topic, partition: ref.partition, from: ref.offset, maxRecords: 1)
                if var r = fetched.first, r.offset == ref.offset {
                    if let v = r.value, v.count > Self.maxValueBytes { r.value = Array(v.prefix(Self.maxValueBytes)) }
                    records.append(r)
                }
            }
        } else {
            try await scan { record, extraction in
                guard extraction.correlationID == id, records.count < Self.maxItemsPerSaga else { return }
                var kept = record
                if let v = kept.value, v.count > Self.maxValueBytes { kept.value = Array(v.prefix(Self.maxValueBytes)) }
                records.append(kept)
            }
        }
        var spans: [EventModel.Span] = []
        if let traces {
            spans = try await traces.spans(correlationID: id, limit: Self.maxItemsPerSaga)
            // Records carrying W3C trace context bring their traces along (spans not yet correlated).
            var traceIDs: [String] = []
            for r in records {
                if let traceID = r.traceParent?.traceID, !traceIDs.contains(traceID) { traceIDs.append(traceID) }
            }
            for traceID in traceIDs.prefix(Self.maxTraces) where spans.count < Self.maxItemsPerSaga {
                spans += try await traces.spans(traceID: traceID)
            }
        }
        if cutsAtClock {
            let cutoff = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
            records = records.filter { $0.timestampMillis <= cutoff }
            spans = happened(spans, by: now)
        }
        return assembler.assemble(correlationID: id, records: records, spans: Array(spans.prefix(Self.maxItemsPerSaga)), now: now)
    }

    // MARK: - Scan (no index)

    /// Hands every one of the newest `scanLimit` records (spread over the partitions) to `visit`, with what the rules find.
    private func scan(_ visit: (Record, CorrelationRules.Extraction) -> Void) async throws {
        let snapshot = try await log.snapshot()
        let partitions = snapshot.topics.flatMap { t in t.partitions.filter { $0.high > $0.low }.map { (t.name, $0) } }
        guard !partitions.isEmpty else { return }
        let perPartition = max(100, Self.scanLimit / partitions.count)
        for (topic, p) in partitions {
            let start = max(p.low, p.high.subtractingSaturating(Int64(perPartition)))
            var reader = PartitionReader(log: log, topic: topic, partition: p.partition, from: start, to: p.high, batchSize: 1_000)
            while let batch = try await reader.next() {
                for r in batch { visit(r, assembler.rules.extract(r)) }
            }
        }
    }
}

/// The tap's store lists the correlation IDs of the spans it keeps, as any embedded store does.
extension TapStoreFile: SpanCorrelationListing {
    func recentSpanCorrelations(limit: Int) async throws -> [SpanCorrelationSummary] {
        guard case .store(let store) = await open() else { return [] }
        return try await store.recentSpanCorrelations(limit: limit)
    }
}

extension NumberFormat {
    /// `20,000`.
    static func groupedText(_ value: Int) -> String { grouped(Int64(value)) }
}

/// A saga loader made in the background on first use: for Kafka it needs the cluster's id, and the
/// dashboard's first frame must not wait for a cluster that is slow or down; a screen without sagas
/// (`evtop snapshot --view topics`) never asks for it.
final class PendingSagaLoader: Sendable {
    private let make: @Sendable () async -> SagaLoader
    private let task = Mutex<Task<SagaLoader, Never>?>(nil)
    /// Index everything before answering a load (`evtop snapshot`, as `evtop saga` does); the dashboard
    /// catches up in the background instead.
    let catchUpBeforeLoads: Bool
    /// Whether a sagas view is on screen (the dashboard says so after each pass): the background indexer
    /// keeps the index fresher then, and is woken when one opens.
    private let shown = Atomic<Bool>(false)
    /// Where the background indexer waits between calls.
    let pause = WakeableSleep()

    /// A loader made by `make` when first needed.
    init(catchUpBeforeLoads: Bool = false, _ make: @escaping @Sendable () async -> SagaLoader) {
        self.make = make
        self.catchUpBeforeLoads = catchUpBeforeLoads
    }

    /// The background indexer's calls: when the last started, and the loads waiting for the next to end.
    private let calls = Mutex<IndexCalls>(IndexCalls())

    struct IndexCalls {
        /// When the last call started; nil while no background indexer runs (`evtop snapshot`).
        var lastStart: ContinuousClock.Instant?
        /// The pause between calls while a sagas view is on screen: an index that old is fresh enough.
        var shownInterval: Duration = .seconds(1)
        /// Loads waiting for the call in progress or the next one to end, by ticket.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextTicket = 0
    }

    /// The background indexer starts a call (`shownInterval`: its pause while a sagas view is shown).
    func indexCallStarted(shownInterval: Duration) {
        calls.withLock { c in
            c.lastStart = .now
            c.shownInterval = shownInterval
        }
    }

    /// The background indexer ended a call: the loads waiting for it go on.
    func indexCallEnded() {
        let waiting = calls.withLock { c in
            defer { c.waiters = [:] }
            return Array(c.waiters.values)
        }
        for w in waiting { w.resume() }
    }

    /// Before a load: when the background indexer last started a call longer ago than it does while a sagas
    /// view is shown (no sagas view was, so it called every few seconds), wakes it and waits for that call
    /// to end, at most `limit`: a saga opened from another view (an insight's evidence) then finds records
    /// written seconds before, as the sagas list does. Returns at once while no background indexer runs.
    func awaitFreshIndex(limit: Duration = .seconds(2)) async {
        let (stale, ticket): (Bool, Int) = calls.withLock { c in
            guard let last = c.lastStart, ContinuousClock.now - last > c.shownInterval else { return (false, 0) }
            c.nextTicket += 1
            return (true, c.nextTicket)
        }
        guard stale else { return }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            calls.withLock { $0.waiters[ticket] = waiter }
            pause.wake()
            DispatchQueue.global().asyncAfter(deadline: .now() + limit.timeInterval) { [self] in
                calls.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume()
            }
        }
    }

    /// How many loads are waiting for a call to end (tests wait on it before they make the call).
    var waitingLoads: Int { calls.withLock { $0.waiters.count } }

    /// Whether a sagas view is on screen now; one that opens wakes the indexer for a call at once.
    func setShown(_ isShown: Bool) {
        if shown.exchange(isShown, ordering: .relaxed) != isShown, isShown { pause.wake() }
    }

    /// True while a sagas view is on screen.
    var isShown: Bool { shown.load(ordering: .relaxed) }

    /// Starts making the loader, if not started yet.
    func start() {
        task.withLock { t in
            if t == nil { t = Task.detached { [make] in await make() } }
        }
    }

    /// Stops the tap of the loader, if one was made and runs a tap (nothing is made to stop it).
    func stopTap() async {
        guard let made = task.withLock({ $0 }) else { return }
        await made.value.stopTap()
    }

    /// The loader, once made.
    var loader: SagaLoader {
        get async {
            start()
            // Started just above: the lock always holds a task here.
            guard let made = task.withLock({ $0 }) else { return await make() }
            return await made.value
        }
    }
}

/// A sleep another thread can end early: the background indexer's pause, ended when a sagas view opens.
/// A wake while nobody sleeps is lost (the next pause runs its course); a timer left from an earlier
/// pause can end a later one early, which only means one call sooner.
final class WakeableSleep: Sendable {
    /// The sleep in progress, and which one it is: a timer ends only its own sleep, not a later one.
    private let sleeper = Mutex<(continuation: CheckedContinuation<Void, Never>?, number: UInt64)>((nil, 0))

    /// Sleeps for `duration`, or until ``wake()``, or until the task is cancelled (as `Task.sleep` would,
    /// so that stopping the indexer never waits out a pause).
    func sleep(for duration: Duration) async {
        let seconds = duration.timeInterval
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let number = sleeper.withLock { s -> UInt64 in
                    s.continuation?.resume()
                    s.continuation = c
                    s.number &+= 1
                    return s.number
                }
                if Task.isCancelled { wake() }
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in end(number) }
            }
        } onCancel: {
            wake()
        }
    }

    /// Ends the sleep in progress, if any.
    func wake() {
        sleeper.withLock { s in
            s.continuation?.resume()
            s.continuation = nil
        }
    }

    /// Ends sleep `number` if it is still the one in progress (its timer fired).
    private func end(_ number: UInt64) {
        sleeper.withLock { s in
            guard s.number == number else { return }
            s.continuation?.resume()
            s.continuation = nil
        }
    }
}
