import Foundation
import Synchronization
import EventModel
import EmbeddedStore
import TerminalUI

/// The local store a tapped source's sagas live in: an embedded store file named after the source's identity
/// (``SourceFiles/tapPath(of:)``), holding the tapped records, their correlation index and the spans the
/// OTLP receiver keeps for them. Opened on first use (its name needs the source's identity, asked of the
/// broker): read-write, created when missing, unless the source was opened read-only; read-only, it opens an
/// existing file only.
final class TapStoreFile: TraceStore, SpanRetention, Sendable {
    /// The tapped source (for its identity).
    let source: any LogReader
    let readOnly: Bool
    private let opening = Mutex<Task<Opened, Never>?>(nil)

    /// What opening found.
    enum Opened: Sendable {
        case store(SQLiteLog)
        /// Read-only and no file: nothing was ever tapped for this source.
        case nothingTapped(path: String)
        case failed(String)
    }

    init(source: any LogReader, readOnly: Bool) {
        self.source = source
        self.readOnly = readOnly
    }

    /// The store, opened once.
    func open() async -> Opened {
        let task = opening.withLock { t in
            if let t { return t }
            let made = Task.detached { [source, readOnly] () -> Opened in
                guard let identity = await source.identity() else { return .failed("the broker did not say who it is") }
                let path = SourceFiles.tapPath(of: identity)
                if readOnly && !FileManager.default.fileExists(atPath: path) { return .nothingTapped(path: path) }
                do {
                    if !readOnly { try Paths.ensureParent(of: path) }
                    return .store(try SQLiteLog(path: path, mode: readOnly ? .readOnly : .readWrite))
                } catch {
                    return .failed("\(path): \(error)")
                }
            }
            t = made
            return made
        }
        return await task.value
    }

    private func store() async throws -> SQLiteLog? {
        switch await open() {
        case .store(let s): return s
        case .nothingTapped: return nil
        case .failed(let why): throw OperatorError("the tap's store: \(why)")
        }
    }

    @discardableResult
    func insertSpans(_ spans: [EventModel.Span]) async throws -> Int {
        guard let s = try await store() else { throw OperatorError("the tap's store is read-only: spans are not kept") }
        return try await s.insertSpans(spans)
    }

    func spans(correlationID id: String, limit: Int) async throws -> [EventModel.Span] {
        try await store()?.spans(correlationID: id, limit: limit) ?? []
    }

    func spans(traceID: String) async throws -> [EventModel.Span] {
        try await store()?.spans(traceID: traceID) ?? []
    }

    @discardableResult
    func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int {
        try await store()?.pruneSpans(olderThanUnixNano: cutoffUnixNano, maxSpans: maxSpans) ?? 0
    }
}

/// Writes tapped records into the tap's store (one topic per exchange, one partition), keeps the store
/// within its record retention (by default the embedded store's: 200,000 records an exchange, 7 days;
/// `evtop collect --record-max/--record-retention` set it) and indexes each batch's correlation IDs as it lands.
final class TapRecorder: Sendable {
    /// Records written between two retention passes.
    static let pruneEvery: Int64 = 5_000

    let store: SQLiteLog
    let indexer: CorrelationIndexer?
    /// What the store keeps: each exchange is one partition, so a count is per exchange.
    let retention: RecordRetentionPolicy
    private let topics = Mutex<Set<String>>([])
    private let sincePrune = Mutex<Int64>(0)

    init(store: SQLiteLog, indexer: CorrelationIndexer?, retention: RecordRetentionPolicy = .standard) {
        self.store = store
        self.indexer = indexer
        self.retention = retention
    }

    /// Writes one batch (in one transaction), prunes now and then, and indexes what is new.
    func write(_ records: [Record]) async throws {
        guard !records.isEmpty else { return }
        let known = topics.withLock { $0 }
        for topic in Set(records.map(\.topic)).subtracting(known).sorted() {
            try await store.createTopic(topic, partitions: 1)  // an existing topic is left as it is
            topics.withLock { _ = $0.insert(topic) }
        }
        try await store.produce(records.map {
            OutgoingRecord(topic: $0.topic, partition: 0, timestampMillis: $0.timestampMillis, key: $0.key, headers: $0.headers, value: $0.value)
        })
        let due = sincePrune.withLock { n -> Bool in
            n += Int64(records.count)
            if n >= Self.pruneEvery { n = 0; return true }
            return false
        }
        if due { try await prune() }
        if let indexer {
            // Bounded per call; a burst larger than one pass is caught up by the next batches.
            _ = try await indexer.catchUp()
        }
    }

    /// Deletes what ``retention`` does not keep: the oldest records of each exchange beyond its count, and
    /// records older than its age.
    func prune() async throws {
        guard retention.isOn else { return }
        try await store.pruneRecords(retention, now: Date())
    }
}

/// A tap recording into its store, as the sagas view and `evtop collect` describe it.
final class TapStatus: Sendable {
    let run: (any TapRun)?
    /// Said when no tap runs (read-only, or a command that only reads the tap's store).
    let idleNote: String?

    init(run: (any TapRun)?, idleNote: String?) {
        self.run = run
        self.idleNote = idleNote
    }

    /// `tap: 42 records from 3 exchanges` (with a failure while it lasts), or why no tap runs.
    var note: String {
        guard let run else { return idleNote ?? "no tap" }
        return Self.describe(run.figures)
    }

    /// The figures in one line.
    static func describe(_ f: TapFigures) -> String {
        var text = "tap: \(NumberFormat.grouped(f.recordsTapped)) records"
        if let n = f.exchangesTapped { text += " from \(n) exchange\(n == 1 ? "" : "s")" } else { text += ", exchanges not yet bound" }
        if let d = f.droppedOnServer, d > 0 { text += ", \(NumberFormat.grouped(d)) dropped on the server" }
        if f.queueFull { text += "; tap queue full: the server drops the oldest copies" }
        if !f.exchangesSkipped.isEmpty { text += "; not tapped: " + f.exchangesSkipped.joined(separator: ", ") }
        if f.stopped { text += "; stopped" }
        else if let problem = f.problem { text += "; " + problem }
        else if !f.consuming { text += "; connecting" }
        return text
    }
}
