import EventModel
import Foundation
import GRDB
import SQLiteSupport
import Synchronization

/// What a recording file holds, from its metadata: an evtop store that `evtop record` (or `:record`) filled
/// with the records of some topics, the spans of their sagas, and the source's snapshots over time.
public struct RecordingInfo: Sendable, Hashable {
    /// The source it was recorded from, as the user named it (no secrets).
    public var source: String
    /// The first snapshot's time.
    public var start: Date
    /// The last snapshot's time: where playback's clock starts.
    public var end: Date
    /// Snapshots taken.
    public var snapshots: Int
    /// What the recording left out, when anything (a record budget reached), for the status line.
    public var note: String?

    /// Creates the description of a recording.
    public init(source: String, start: Date, end: Date, snapshots: Int, note: String? = nil) {
        self.source = source
        self.start = start
        self.end = end
        self.snapshots = snapshots
        self.note = note
    }
}

/// A snapshot as a recording keeps it (JSON in `recording_snapshots.snapshot`).
private struct StoredSnapshot: Codable {
    struct Brokers: Codable {
        var total: Int
        var down: [Int32]
        var controller: Int32?
    }

    var topics: [TopicInfo]
    var groups: [ConsumerGroup]
    var brokers: Brokers?
    var deadLetterTopics: [String]
    var limitation: String?

    init(_ s: BrokerSnapshot) {
        topics = s.topics
        groups = s.groups
        brokers = s.brokers.map { Brokers(total: $0.total, down: $0.down, controller: $0.controller) }
        deadLetterTopics = s.deadLetterTopics.sorted()
        limitation = s.limitation
    }

    func snapshot(at time: Date) -> BrokerSnapshot {
        BrokerSnapshot(time: time, topics: topics, groups: groups,
                       brokers: brokers.map { BrokerAvailability(total: $0.total, down: $0.down, controller: $0.controller) },
                       deadLetterTopics: Set(deadLetterTopics), limitation: limitation)
    }
}

extension SQLiteLog {
    /// The table a recording adds to the store schema: one JSON snapshot per sample, by time (milliseconds).
    static let recordingSQL = """
        CREATE TABLE IF NOT EXISTS recording_snapshots(
            at INTEGER PRIMARY KEY NOT NULL,
            snapshot BLOB NOT NULL
        )
        """

    private static let metaSource = "recording.source"
    private static let metaNote = "recording.note"

    /// Makes this store a recording of `source` (a new store: `evtop record` creates it where no file is).
    public func beginRecording(source: String) async throws {
        try checkWritable()
        try await file.write { db in
            try db.execute(sql: Self.recordingSQL)
            try db.execute(sql: "INSERT OR REPLACE INTO evtop_meta(key, value) VALUES (?, ?)", arguments: [Self.metaSource, source])
        }
    }

    /// Adds one snapshot to the recording, and makes the store's own topics and group offsets those of the
    /// snapshot (so the file read as a plain store, or indexed, sees the recorded topics).
    public func recordSnapshot(_ snapshot: BrokerSnapshot) async throws {
        try checkWritable()
        let body = try JSONEncoder().encode(StoredSnapshot(snapshot))
        let at = Self.millis(snapshot.time)
        try await file.write { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO recording_snapshots(at, snapshot) VALUES (?, ?)")
                .execute(arguments: [at, body])
            let topic = try db.cachedStatement(sql: """
                INSERT INTO topics(name, partitions, created_at) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET partitions = max(partitions, excluded.partitions)
                """)
            let partition = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO partitions(topic, "partition", low, high) VALUES (?, ?, ?, ?)
                """)
            for t in snapshot.topics {
                try topic.execute(arguments: [t.name, t.partitions.count, at])
                for p in t.partitions {
                    // Until a record lands, the partition is empty at the source's high watermark.
                    try partition.execute(arguments: [t.name, p.partition, p.high, p.high])
                }
            }
            let offset = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO group_offsets(group_id, topic, "partition", committed, committed_at) VALUES (?, ?, ?, ?, ?)
                """)
            for g in snapshot.groups {
                for (tp, committed) in g.offsets {
                    try offset.execute(arguments: [g.id, tp.topic, tp.partition, committed, g.commitTimesMillis[tp] ?? at])
                }
            }
        }
    }

    /// Stores records as they are, at their own offsets (a recording keeps the source's positions), in one
    /// transaction; a record already stored is kept. Each partition's low and high watermarks in the store
    /// widen to cover what it holds. Topics must have been recorded by a snapshot first.
    /// Blocks the calling thread (a bulk read's, which hands batches over synchronously).
    public func importRecords(_ records: [EventModel.Record]) throws {
        try checkWritable()
        guard !records.isEmpty else { return }
        try file.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO records(topic, "partition", "offset", ts, key, headers, value)
                VALUES (?, ?, ?, ?, CASE WHEN ? THEN X'' ELSE ? END, ?, CASE WHEN ? THEN X'' ELSE ? END)
                """)
            var ranges: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for r in records {
                insert.setUncheckedArguments([
                    r.topic, r.partition, r.offset, r.timestampMillis,
                    r.key?.isEmpty == true, r.key.map { Data($0) },
                    HeaderCodec.encode(r.headers).map { Data($0) },
                    r.value?.isEmpty == true, r.value.map { Data($0) },
                ])
                try insert.execute()
                let tp = TopicPartition(r.topic, r.partition)
                let next = r.offset.addingSaturating(1)
                let known = ranges[tp] ?? (r.offset, next)
                ranges[tp] = (min(known.low, r.offset), max(known.high, next))
            }
            let widen = try db.cachedStatement(sql: """
                INSERT INTO partitions(topic, "partition", low, high) VALUES (?, ?, ?, ?)
                ON CONFLICT(topic, "partition") DO UPDATE SET
                    low = CASE WHEN (SELECT COUNT(*) FROM records WHERE topic = excluded.topic AND "partition" = excluded."partition") > 0
                               THEN (SELECT MIN("offset") FROM records WHERE topic = excluded.topic AND "partition" = excluded."partition")
                               ELSE excluded.low END,
                    high = max(high, excluded.high)
                """)
            for (tp, range) in ranges {
                try widen.execute(arguments: [tp.topic, tp.partition, range.low, range.high])
            }
        }
    }

    /// Says what the recording left out (shown when it is opened).
    public func noteRecording(_ note: String) async throws {
        try checkWritable()
        try await file.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO evtop_meta(key, value) VALUES (?, ?)", arguments: [Self.metaNote, note])
        }
    }

    /// Leaves the closed recording at `path` as one self-contained file (rollback journal instead of a
    /// write-ahead log), so that opening it later, read-only, creates nothing beside it. Call once the
    /// recording is complete and its store closed.
    public static func sealRecording(path: String) throws {
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            }
            try queue.close()
        } catch {
            throw StoreError.cannotOpen(path, "cannot finish the recording: \(error)")
        }
    }

    /// True when the file at `path` is a recording, asked without opening it as a store (which, for writing,
    /// would turn its journal back to a write-ahead log): a recording is played back, never written. A file
    /// that cannot be read so is no recording here; opening it as a store then says what is wrong.
    public static func isRecording(path: String) -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                try db.tableExists("recording_snapshots")
                    && String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = ?", arguments: [metaSource]) != nil
            }
        } catch {
            return false
        }
    }

    /// What the recording holds; nil when this store is no recording.
    public func recordingInfo() throws -> RecordingInfo? {
        try file.read { db -> RecordingInfo? in
            guard try db.tableExists("recording_snapshots"),
                  let source = try String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = ?", arguments: [Self.metaSource])
            else { return nil }
            let row = try Row.fetchOne(db, sql: "SELECT MIN(at), MAX(at), COUNT(*) FROM recording_snapshots")
            guard let row, let first: Int64 = row[0], let last: Int64 = row[1] else { return nil }
            let note = try String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = ?", arguments: [Self.metaNote])
            return RecordingInfo(source: source, start: Self.date(millis: first), end: Self.date(millis: last),
                                 snapshots: row[2] ?? 0, note: note)
        }
    }

    /// The recorded snapshots taken in `from...through`, oldest first.
    public func recordedSnapshots(from: Date, through: Date) throws -> [BrokerSnapshot] {
        let (low, high) = (Self.millis(from), Self.millis(through))
        let path = self.path
        return try file.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT at, snapshot FROM recording_snapshots WHERE at BETWEEN ? AND ? ORDER BY at
                """, arguments: [low, high])
            var snapshots: [BrokerSnapshot] = []
            let decoder = JSONDecoder()
            while let row = try rows.next() {
                let at: Int64 = try self.column(row, 0)
                let body: Data = try self.column(row, 1)
                do {
                    snapshots.append(try decoder.decode(StoredSnapshot.self, from: body).snapshot(at: Self.date(millis: at)))
                } catch {
                    throw StoreError.corrupt(path, "the recorded snapshot at \(at) ms cannot be read")
                }
            }
            return snapshots
        }
    }

    /// The last recorded snapshot taken at or before `time` (the first one when `time` is before them all).
    func recordedSnapshot(atOrBefore time: Date) throws -> BrokerSnapshot? {
        let at = try file.read { db in
            try Int64.fetchOne(db, sql: "SELECT at FROM recording_snapshots WHERE at <= ? ORDER BY at DESC LIMIT 1", arguments: [Self.millis(time)])
                ?? Int64.fetchOne(db, sql: "SELECT MIN(at) FROM recording_snapshots")
        }
        guard let at else { return nil }
        let date = Self.date(millis: at)
        return try recordedSnapshots(from: date, through: date).first
    }

    static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}

/// A recording opened for playback: every view reads it as a source whose clock is frozen at a moment of
/// the recording (its end, at first) and moved by the operator. Snapshots are the recorded ones at or
/// before the clock; reads stop at the high watermarks of that snapshot, so a view never shows a record
/// that had not arrived yet at the clock's time. Nothing is ever written to the file.
public final class RecordingPlayback: LogReader, Playback {
    /// The recording's store, opened read-only.
    public let store: SQLiteLog
    /// What the recording holds.
    public let info: RecordingInfo
    private let current: Mutex<(clock: Date, snapshot: BrokerSnapshot)>

    /// Opens the recording at `path` read-only; a store that is no recording is refused with what to do.
    public init(path: String) throws {
        let store = try SQLiteLog(path: path, mode: .readOnly)
        guard let info = try store.recordingInfo(), let last = try store.recordedSnapshot(atOrBefore: .distantFuture) else {
            store.close()
            throw BrokerError.badURL("file:" + path, reason: "\(path) is an evtop store but no recording (open it with sqlite:\(path); make a recording with evtop record --out FILE)")
        }
        self.store = store
        self.info = info
        current = Mutex((info.end, last))
    }

    /// `file:` and the path.
    public var sourceDescription: String { "file:" + store.path }

    /// The playback clock: the moment of the recording every view shows.
    public var clock: Date { current.withLock { $0.clock } }

    /// The first and last snapshots' times.
    public var recorded: ClosedRange<Date> { info.start...info.end }

    /// What `evtop record` left out (a record budget reached).
    public var omissions: String? { info.note }

    /// Moves the clock to `time` (kept within the recording) and returns the snapshots of the `history`
    /// seconds up to it, oldest first: what rates and charts are computed from again.
    public func move(to time: Date, history: TimeInterval) throws -> (clock: Date, snapshots: [BrokerSnapshot]) {
        let clock = min(max(time, info.start), info.end)
        var snapshots = try store.recordedSnapshots(from: clock.addingTimeInterval(-history), through: clock)
        if snapshots.isEmpty, let earlier = try store.recordedSnapshot(atOrBefore: clock) { snapshots = [earlier] }
        guard let last = snapshots.last else { throw StoreError.corrupt(store.path, "the recording has no snapshot") }
        current.withLock { $0 = (clock, last) }
        return (clock, snapshots)
    }

    /// The recorded snapshot at the clock.
    public func snapshot() async throws -> BrokerSnapshot { current.withLock { $0.snapshot } }

    /// One topic as the snapshot at the clock has it.
    public func watermarks(topic: String) async throws -> TopicInfo {
        guard let info = current.withLock({ $0.snapshot.topics.first { $0.name == topic } }) else { throw BrokerError.unknownTopic(topic) }
        return info
    }

    /// The recorded records of a partition from `position`, up to the high watermark at the clock.
    public func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> (records: [EventModel.Record], next: LogPosition) {
        let high = try await watermarks(topic: topic).partitions.first { $0.partition == partition }?.high
        guard let high else { throw BrokerError.unknownPartition(topic, partition) }
        guard position < high else { return ([], position) }
        let read = try await store.read(topic: topic, partition: partition, from: position, maxRecords: maxRecords)
        let records = read.records.filter { $0.offset < high }
        // Past the last recorded record before the clock's high, the log is read: say so with `high`.
        let next = records.count < read.records.count || read.records.count < maxRecords ? high : read.next
        return (records, next)
    }

    /// The recording store's identity: its correlation index lives inside it.
    public func identity() async -> SourceIdentity? { await store.identity() }
}
