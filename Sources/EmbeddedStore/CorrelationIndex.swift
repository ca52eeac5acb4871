import EventModel
import Foundation
import Synchronization
import GRDB
import SQLiteSupport

/// Records by correlation ID, so that a saga lookup reads a few index rows instead of scanning the log.
///
/// The index lives in a SQLite file: the embedded store's own file (its tables are created when the
/// store is opened read-write), or a local file of its own for a log that is not SQLite (Kafka). Rows are
/// keyed by record position, so indexing the same record twice (two processes catching up at once,
/// or a crash between batches) changes nothing. A per-partition cursor says how far each partition is indexed.
public final class CorrelationIndex: Sendable {
    /// The file's path.
    public let path: String
    /// False when opened read-only: nothing can be indexed, lookups read what is there.
    public let writable: Bool
    /// The file (internal: tests reach its pool to fill the disk).
    let file: SQLiteFile

    /// The index's tables and indexes, all `IF NOT EXISTS` (they join a store without a schema version bump).
    static let tablesSQL = """
        CREATE TABLE IF NOT EXISTS correlation_records(
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            correlation_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            event_type TEXT,
            PRIMARY KEY(topic, "partition", "offset")
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS correlation_records_by_id ON correlation_records(correlation_id, ts);
        CREATE INDEX IF NOT EXISTS correlation_records_by_time ON correlation_records(ts);
        CREATE TABLE IF NOT EXISTS correlations(
            correlation_id TEXT PRIMARY KEY NOT NULL,
            first_ts INTEGER NOT NULL,
            last_ts INTEGER NOT NULL,
            records INTEGER NOT NULL,
            last_event_type TEXT
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS correlations_by_last ON correlations(last_ts);
        CREATE TABLE IF NOT EXISTS correlation_cursors(
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            next_offset INTEGER NOT NULL,
            PRIMARY KEY(topic, "partition")
        ) WITHOUT ROWID;
        """

    /// Creates the index tables when missing. Runs inside the store's read-write open (and here).
    public static func ensureCorrelationTables(_ db: Database) throws {
        try db.execute(sql: tablesSQL)
    }

    /// Opens the index in `path` (an evtop store or a plain SQLite file, created when missing unless `readOnly`).
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if readOnly, !FileManager.default.fileExists(atPath: path) { throw StoreError.missing(path) }
        // The index is rebuildable from the log: a commit need not wait for the disk (WAL stays consistent,
        // rows and cursor are lost or kept together). A larger cache keeps its B-trees off the disk.
        let pragmas = (readOnly ? [] : ["PRAGMA synchronous = NORMAL"]) + ["PRAGMA cache_size = -32768"]
        file = try SQLiteFile(
            path: path,
            options: .init(readOnly: readOnly, busyTimeout: SQLiteLog.busyTimeout, label: "evtop.correlation-index",
                           maximumReaderCount: 2, connectionPragmas: pragmas),
            translate: StoreError.translate)
        if !readOnly {
            try file.write { db in try Self.ensureCorrelationTables(db) }
        }
        writable = !readOnly
    }

    /// True when the file has the index tables (a read-only open of a store never indexed has none).
    public func exists() async throws -> Bool {
        try await file.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'correlation_cursors'") == 1
        }
    }

    // MARK: - Writing

    /// One record's entry.
    public struct Entry: Sendable, Hashable {
        /// Where the record is.
        public var topic: String
        /// Partition.
        public var partition: Int32
        /// Offset.
        public var offset: Int64
        /// Its correlation ID.
        public var correlationID: String
        /// Its timestamp, ms.
        public var timestampMillis: Int64
        /// Its event type, if known.
        public var eventType: String?

        /// Creates an entry.
        public init(topic: String, partition: Int32, offset: Int64, correlationID: String, timestampMillis: Int64, eventType: String?) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.correlationID = correlationID
            self.timestampMillis = timestampMillis
            self.eventType = eventType
        }
    }

    /// Adds entries and moves cursors forward (never back) in one transaction.
    public func apply(_ entries: [Entry], cursors: [TopicPartition: Int64]) async throws {
        guard writable else { throw StoreError.readOnly(path) }
        try await file.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO correlation_records(topic, "partition", "offset", correlation_id, ts, event_type)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            let summary = try db.cachedStatement(sql: """
                INSERT INTO correlations(correlation_id, first_ts, last_ts, records, last_event_type) VALUES (?, ?, ?, 1, ?)
                ON CONFLICT(correlation_id) DO UPDATE SET
                    first_ts = MIN(first_ts, excluded.first_ts),
                    last_event_type = CASE WHEN excluded.last_ts >= last_ts AND excluded.last_event_type IS NOT NULL
                                           THEN excluded.last_event_type ELSE last_event_type END,
                    last_ts = MAX(last_ts, excluded.last_ts),
                    records = records + 1
                """)
            for e in entries {
                try insert.execute(arguments: [e.topic, e.partition, e.offset, e.correlationID, e.timestampMillis, e.eventType])
                guard db.changesCount > 0 else { continue }
                try summary.execute(arguments: [e.correlationID, e.timestampMillis, e.timestampMillis, e.eventType])
            }
            let cursor = try db.cachedStatement(sql: """
                INSERT INTO correlation_cursors(topic, "partition", next_offset) VALUES (?, ?, ?)
                ON CONFLICT(topic, "partition") DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)
                """)
            for (tp, next) in cursors.sorted(by: { $0.key < $1.key }) {
                try cursor.execute(arguments: [tp.topic, tp.partition, next])
            }
        }
    }

    /// Drops what the index holds for these partitions (entries and cursors) and recomputes the
    /// summaries of the correlation ids they held: for a partition that now ends before its cursor,
    /// which only a topic deleted and recreated under the same name does.
    public func forget(_ partitions: [TopicPartition]) async throws {
        guard writable else { throw StoreError.readOnly(path) }
        guard !partitions.isEmpty else { return }
        try await file.write { db in
            for tp in partitions {
                let args: StatementArguments = [tp.topic, tp.partition]
                let ids = try String.fetchAll(db, sql: """
                    SELECT DISTINCT correlation_id FROM correlation_records WHERE topic = ? AND "partition" = ?
                    """, arguments: args)
                try db.execute(sql: #"DELETE FROM correlation_records WHERE topic = ? AND "partition" = ?"#, arguments: args)
                try db.execute(sql: #"DELETE FROM correlation_cursors WHERE topic = ? AND "partition" = ?"#, arguments: args)
                for id in ids {
                    try db.execute(sql: "DELETE FROM correlations WHERE correlation_id = ?", arguments: [id])
                    try db.execute(sql: """
                        INSERT INTO correlations(correlation_id, first_ts, last_ts, records, last_event_type)
                        SELECT correlation_id, MIN(ts), MAX(ts), COUNT(*),
                               (SELECT event_type FROM correlation_records r2 WHERE r2.correlation_id = r.correlation_id
                                  AND event_type IS NOT NULL ORDER BY ts DESC LIMIT 1)
                        FROM correlation_records r WHERE correlation_id = ? GROUP BY correlation_id
                        """, arguments: [id])
                }
            }
        }
    }

    // MARK: - Reading

    /// How far each partition is indexed (the next offset to index).
    public func cursors() async throws -> [TopicPartition: Int64] {
        try await file.read { db in
            var out: [TopicPartition: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: #"SELECT topic, "partition", next_offset FROM correlation_cursors"#)
            while let row = try rows.next() {
                out[TopicPartition(try self.decode(row, 0), try self.decode(row, 1))] = try self.decode(row, 2)
            }
            return out
        }
    }

    /// The records of one correlation ID, oldest first, at most `limit` (the newest `limit` when there are more).
    /// Reads the `(correlation_id, ts)` index only: O(result), never a scan.
    public func records(correlationID id: String, limit: Int = 10_000) async throws -> [SagaEventRef] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            var refs: [SagaEventRef] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT topic, "partition", "offset", ts, event_type FROM correlation_records INDEXED BY correlation_records_by_id
                WHERE correlation_id = ? ORDER BY ts DESC, topic DESC, "partition" DESC, "offset" DESC LIMIT ?
                """), arguments: [id, limit])
            while let row = try rows.next() {
                refs.append(SagaEventRef(topic: try self.decode(row, 0), partition: try self.decode(row, 1),
                                         offset: try self.decode(row, 2), timestampMillis: try self.decode(row, 3),
                                         eventType: try self.decode(row, 4) as String?))
            }
            return refs.reversed()
        }
    }

    /// The correlation IDs with the newest records, newest first (the `last_ts` index: O(limit)).
    public func recentCorrelations(limit: Int) async throws -> [CorrelationSummary] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            var out: [CorrelationSummary] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT correlation_id, first_ts, last_ts, records, last_event_type FROM correlations INDEXED BY correlations_by_last
                ORDER BY last_ts DESC, correlation_id DESC LIMIT ?
                """), arguments: [limit])
            while let row = try rows.next() {
                out.append(CorrelationSummary(correlationID: try self.decode(row, 0), firstMillis: try self.decode(row, 1),
                                              lastMillis: try self.decode(row, 2), records: try self.decode(row, 3),
                                              lastEventType: try self.decode(row, 4) as String?))
            }
            return out
        }
    }

    /// Correlation IDs starting with `prefix` (for completing `:follow`), at most `limit`, in ID order.
    public func correlationIDs(prefix: String, limit: Int) async throws -> [String] {
        try await file.read { db in
            try String.fetchAll(db.cachedStatement(sql: """
                SELECT correlation_id FROM correlations WHERE correlation_id >= ? AND correlation_id < ? ORDER BY correlation_id LIMIT ?
                """), arguments: [prefix, prefix + "\u{10FFFF}", limit])
        }
    }

    /// Records indexed in total (a count over the index, for status lines and benchmarks).
    public func indexedRecordCount() async throws -> Int64 {
        try await file.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM correlation_records") ?? 0 }
    }

    // MARK: - Internals

    private func decode<T: DatabaseValueConvertible>(_ row: Row, _ index: Int) throws -> T {
        try row.value(at: index, of: path)
    }
}

/// Keeps a `CorrelationIndex` caught up with any `LogReader` (the embedded store, or Kafka into a local file).
///
/// Each call to ``catchUp(snapshot:)`` reads from the cursors forward with a ``PartitionReader``, in batches of at most
/// ``batchSize`` and at most ``maxRecordsPerTick`` records in all: O(new records) per tick, bounded per tick.
/// Partitions take turns (the starting partition rotates) so a busy one cannot starve the rest.
public final class CorrelationIndexer: Sendable {
    /// The log indexed.
    public let log: any LogReader
    /// The index written.
    public let index: CorrelationIndex
    /// How correlation IDs and event types are found.
    public let rules: CorrelationRules
    /// Records per fetch.
    public let batchSize: Int
    /// Records read per call at most.
    public let maxRecordsPerTick: Int
    private let rotation = Mutex<Int>(0)

    /// What one call did.
    public struct Progress: Sendable, Hashable {
        /// Records read this call.
        public var read: Int
        /// Of those, records with a correlation ID.
        public var indexed: Int
        /// Records still to index after this call (over every partition).
        public var remaining: Int64

        /// Creates a progress report.
        public init(read: Int, indexed: Int, remaining: Int64) {
            self.read = read
            self.indexed = indexed
            self.remaining = remaining
        }
    }

    /// Creates an indexer.
    public init(log: any LogReader, index: CorrelationIndex, rules: CorrelationRules,
                batchSize: Int = 500, maxRecordsPerTick: Int = 5_000) {
        self.log = log
        self.index = index
        self.rules = rules
        self.batchSize = max(1, batchSize)
        self.maxRecordsPerTick = max(1, maxRecordsPerTick)
    }

    /// Indexes up to ``maxRecordsPerTick`` new records. Pass the latest snapshot to save asking for one.
    @discardableResult
    public func catchUp(snapshot given: BrokerSnapshot? = nil) async throws -> Progress {
        let snapshot: BrokerSnapshot
        if let given { snapshot = given } else { snapshot = try await log.snapshot() }
        var stored = try await index.cursors()
        // A partition that ends before its cursor was deleted and recreated: what the index holds for it
        // points at records that are gone. Only figures a broker just gave count: a high of 0 may mean none
        // yet, and a partition whose leader is down shows its last known figures.
        let down = Set(snapshot.brokers?.down ?? [])
        let recreated = snapshot.topics.flatMap { t in
            t.partitions.compactMap { p -> TopicPartition? in
                let tp = TopicPartition(t.name, p.partition)
                let answered = p.leader.map { !down.contains($0) } ?? (p.replicas == nil)  // Kafka without a leader: stale
                return answered && p.high > 0 && p.high < (stored[tp] ?? 0) ? tp : nil
            }
        }
        if !recreated.isEmpty {
            try await index.forget(recreated)
            for tp in recreated { stored[tp] = nil }
        }
        var lagging: [(TopicPartition, Int64, Int64)] = []  // partition, from, high
        for topic in snapshot.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partition)
                let from = max(stored[tp] ?? 0, p.low)
                if from < p.high { lagging.append((tp, from, p.high)) }
            }
        }
        guard !lagging.isEmpty else { return Progress(read: 0, indexed: 0, remaining: 0) }
        let start = rotation.withLock { r in defer { r &+= 1 }; return r } % lagging.count
        lagging = Array(lagging[start...] + lagging[..<start])

        var budget = maxRecordsPerTick
        var read = 0, indexed = 0
        var remaining: Int64 = 0
        for (tp, from, high) in lagging {
            // Never past the snapshot's high: a later, lower high then means only a recreated topic (above).
            // An empty read leaves the cursor where the log says to go on (past transaction markers), never
            // at `high`: a Kafka fetch can come back empty while the snapshot's high is already ahead, and
            // jumping would skip those records for good. The next call tries again (and `catchUpFully` stops
            // when a call reads nothing).
            var reader = PartitionReader(log: log, topic: tp.topic, partition: tp.partition, from: from, to: high, batchSize: batchSize)
            // One transaction per partition per call: entries of several reads, then the cursor.
            var entries: [CorrelationIndex.Entry] = []
            while budget > 0, let records = try await reader.next(maxRecords: min(batchSize, budget)) {
                for r in records {
                    let ex = rules.extract(r)
                    guard let id = ex.correlationID else { continue }
                    entries.append(CorrelationIndex.Entry(topic: r.topic, partition: r.partition, offset: r.offset,
                                                          correlationID: id, timestampMillis: r.timestampMillis, eventType: ex.eventType))
                }
                read += records.count
                budget -= records.count
            }
            let next = reader.position
            if next > from {
                try await index.apply(entries, cursors: [tp: next])
                indexed += entries.count
            }
            remaining += max(0, high - next)
        }
        return Progress(read: read, indexed: indexed, remaining: remaining)
    }

    /// Calls ``catchUp(snapshot:)`` until nothing is left (for the command line and benchmarks).
    @discardableResult
    public func catchUpFully() async throws -> Int {
        var total = 0
        while true {
            let p = try await catchUp()
            total += p.read
            if p.remaining == 0 || p.read == 0 { return total }
        }
    }
}
