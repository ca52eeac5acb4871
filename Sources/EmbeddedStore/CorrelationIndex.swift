import EventModel
import Foundation
import Synchronization
import GRDB
import GRDBSQLite
import SQLiteSupport

/// Records by correlation ID, so that a saga lookup reads a few index rows instead of scanning the log.
///
/// The index lives in a SQLite file: the embedded store's own file (its tables are created when the
/// store is opened read-write), or a local file of its own for a log that is not SQLite (Kafka).
///
/// The layout is made for write speed and size (docs/benchmarks.md has the figures): topics-partitions,
/// correlation IDs and event types are interned as small integers, and a record is one compact row keyed
/// by its saga, `(saga, ms, partition, offset)`, so a lookup reads one stretch of one B-tree and a record
/// costs about 30 bytes. Rows are keyed by record position, so indexing the same record twice (two
/// processes catching up at once, a crash between batches) changes nothing. Each partition says which
/// stretch of it is indexed, `[tail, head)`: the indexer can take the newest records first and fill
/// backwards later.
public final class CorrelationIndex: Sendable {
    /// The file's path.
    public let path: String
    /// False when opened read-only: nothing can be indexed, lookups read what is there.
    public let writable: Bool
    /// The file (internal: tests reach its pool to fill the disk).
    let file: SQLiteFile
    /// Interned IDs already known to this process (IDs are never reused, so a cache is never wrong).
    private let interned = Mutex(Interned())

    /// The index's tables, all `IF NOT EXISTS` (they join a store without a schema version bump).
    /// `index_sagas` is AUTOINCREMENT so that a forgotten saga's id is never given to another one: other
    /// processes indexing the same file may still hold it in their caches.
    ///
    /// A record's entry is keyed by its saga, then its time as `dt`, milliseconds from the saga's `base_ms`
    /// (its first record's time when the saga was created, never changed: `first_ms` moves when older
    /// records are filled in): a saga's records span seconds, so `dt` takes a byte or two, not six.
    /// `base_ms` has a default so that an older evtop, whose schema check refuses a table with a
    /// required column it does not know, still opens the store.
    /// Retention finds the entries of deleted records by position through `index_blocks`: per partition
    /// and stretch of ``blockSpan`` offsets, one blob of packed (offset, saga, dt) triples (``IndexBlock``),
    /// about 3.5 bytes a record where a second index on the entries took a whole key (~22 bytes).
    static let tablesSQL = """
        CREATE TABLE IF NOT EXISTS index_partitions(
            id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            tail INTEGER NOT NULL,
            head INTEGER NOT NULL,
            head_ms INTEGER,
            UNIQUE(topic, "partition"));
        CREATE TABLE IF NOT EXISTS index_event_types(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS index_sagas(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            correlation_id TEXT NOT NULL UNIQUE,
            base_ms INTEGER NOT NULL DEFAULT 0,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            records INTEGER NOT NULL,
            last_type INTEGER);
        CREATE INDEX IF NOT EXISTS index_sagas_by_last ON index_sagas(last_ms);
        CREATE TABLE IF NOT EXISTS index_refs(
            saga INTEGER NOT NULL,
            dt INTEGER NOT NULL,
            part INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            type INTEGER,
            PRIMARY KEY(saga, dt, part, "offset")) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS index_blocks(
            part INTEGER NOT NULL,
            block INTEGER NOT NULL,
            entries BLOB NOT NULL,
            PRIMARY KEY(part, block)) WITHOUT ROWID;
        """

    /// Offsets one `index_blocks` row covers (a power of two: the block is `offset >> blockShift`). 128
    /// keeps a block's blob (about 3.5 bytes a record) within the ~1,000 bytes SQLite stores in a
    /// WITHOUT ROWID row's own page: a longer one spills into overflow pages and wastes half of the last.
    static let blockShift: Int64 = 7
    static var blockSpan: Int64 { 1 << blockShift }

    /// The earlier layouts' tables: dropped when a file is opened read-write, and the index is rebuilt
    /// from the log (it holds nothing the log does not). The first kept one text row per record with three
    /// secondary indexes; the second keyed entries by full timestamps with a second index by position.
    /// `index_records` there means an evtop of the second layout wrote (an older build opened the file
    /// again after this one): everything goes, this layout's tables too, since their saga ids would no
    /// longer match `index_sagas`.
    static let firstLayoutSQL = """
        DROP TABLE IF EXISTS correlation_records;
        DROP TABLE IF EXISTS correlations;
        DROP TABLE IF EXISTS correlation_cursors;
        """
    static let secondLayoutSQL = """
        DROP TABLE IF EXISTS index_records;
        DROP TABLE IF EXISTS index_refs;
        DROP TABLE IF EXISTS index_blocks;
        DROP TABLE IF EXISTS index_sagas;
        DROP TABLE IF EXISTS index_partitions;
        DROP TABLE IF EXISTS index_event_types;
        """

    /// Creates the index tables when missing. Runs inside the store's read-write open (and here).
    public static func ensureCorrelationTables(_ db: Database) throws {
        try db.execute(sql: firstLayoutSQL)
        if try db.tableExists("index_records") { try db.execute(sql: secondLayoutSQL) }
        try db.execute(sql: tablesSQL)
    }

    /// Opens the index in `path` (an evtop store or a plain SQLite file, created when missing unless `readOnly`).
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if readOnly, !FileManager.default.fileExists(atPath: path) { throw StoreError.missing(path) }
        // The index is rebuildable from the log: a commit need not wait for the disk (WAL stays consistent,
        // rows and cursor are lost or kept together). A larger cache keeps its B-trees off the disk.
        // Only the writer gets the large cache: a lookup reads a few pages, and each reader's cache would be
        // 64 MiB more the process keeps once the file is big.
        file = try SQLiteFile(
            path: path,
            options: .init(readOnly: readOnly, busyTimeout: SQLiteLog.busyTimeout, label: "evtop.correlation-index",
                           maximumReaderCount: 2, connectionPragmas: readOnly ? [] : ["PRAGMA synchronous = NORMAL"],
                           writerPragmas: ["PRAGMA cache_size = -65536"]),
            translate: StoreError.translate)
        if !readOnly {
            try file.write { db in try Self.ensureCorrelationTables(db) }
        }
        writable = !readOnly
    }

    /// True when the file has the index tables (a read-only open of a store never indexed has none).
    public func exists() async throws -> Bool {
        try await file.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'index_refs'") == 1
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

    /// Which stretch of a partition is indexed: records in `[tail, head)`.
    public struct Coverage: Sendable, Hashable {
        /// The oldest position indexed (backfilling moves it down).
        public var tail: Int64
        /// The next position to index going forward.
        public var head: Int64
        /// Timestamp of the last record indexed going forward (ms), nil before the first.
        public var headMillis: Int64?

        /// Creates a coverage.
        public init(tail: Int64, head: Int64, headMillis: Int64? = nil) {
            self.tail = tail
            self.head = head
            self.headMillis = headMillis
        }
    }

    /// How a batch moves a partition's coverage.
    public struct Move: Sendable, Hashable {
        /// The new head (never moved back), if it moved.
        public var head: Int64?
        /// The new tail (never moved up, except by `start`), if it moved.
        public var tail: Int64?
        /// Timestamp of the last record read going forward.
        public var headMillis: Int64?

        /// Creates a move.
        public init(head: Int64? = nil, tail: Int64? = nil, headMillis: Int64? = nil) {
            self.head = head
            self.tail = tail
            self.headMillis = headMillis
        }

        /// This move, then `later` in the same transaction: heads only go on and tails only go back, and a
        /// later head that came without records (markers) keeps the time of the records before it.
        func then(_ later: Move) -> Move {
            Move(head: [head, later.head].compactMap { $0 }.max(),
                 tail: [tail, later.tail].compactMap { $0 }.min(),
                 headMillis: later.headMillis ?? headMillis)
        }
    }

    /// Adds entries and moves heads forward (never back) in one transaction.
    public func apply(_ entries: [Entry], cursors: [TopicPartition: Int64]) async throws {
        try await apply(entries, moves: cursors.mapValues { Move(head: $0) })
    }

    /// Adds entries and moves coverages in one transaction.
    public func apply(_ entries: [Entry], moves: [TopicPartition: Move]) async throws {
        guard writable else { throw StoreError.readOnly(path) }
        do {
            try await file.write { [self] db in try write(entries, moves: moves, db) }
        } catch {
            forgetInterned()
            throw error
        }
    }

    /// ``apply(_:moves:)`` on the calling thread (the indexer's writer).
    func applyNow(_ entries: [Entry], moves: [TopicPartition: Move]) throws {
        guard writable else { throw StoreError.readOnly(path) }
        do {
            try file.write { db in try write(entries, moves: moves, db) }
        } catch {
            forgetInterned()
            throw error
        }
    }

    /// Drops the ids this process cached: after a write that rolled back, some were made in it, and SQLite
    /// gives a rolled-back id to the next row (a saga's records would be counted under another saga).
    private func forgetInterned() {
        interned.withLock { cache in
            cache.sagas.removeAll()
            cache.partitions.removeAll()
            cache.types.removeAll()
        }
    }

    /// Starts partitions not indexed yet at `start` (an empty coverage), in one transaction.
    public func start(_ partitions: [TopicPartition: Int64]) async throws {
        guard writable else { throw StoreError.readOnly(path) }
        guard !partitions.isEmpty else { return }
        try await file.write { [self] db in
            for (tp, at) in partitions {
                let id = try partitionID(tp, db, creatingAt: at)
                try db.execute(sql: "UPDATE index_partitions SET tail = ?, head = ? WHERE id = ? AND head <= tail",
                               arguments: [at, at, id])
            }
        }
    }

    /// What one saga gained in a batch.
    private struct SagaGain {
        var correlationID: String
        var baseMillis: Int64
        var first: Int64 = .max
        var last: Int64 = .min
        var count = 0
        var typeAtLast: Int64?
        var typeAtLastMillis: Int64 = .min
    }

    private func write(_ entries: [Entry], moves: [TopicPartition: Move], _ db: Database) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO index_refs(saga, dt, part, "offset", type) VALUES (?, ?, ?, ?, ?)
            """)
        let stmt = insert.sqliteStatement
        let connection = db.sqliteConnection
        var gains: [Int64: SagaGain] = [:]
        var blocks: [IndexBlockKey: [IndexBlock.Entry]] = [:]
        var lastTopic: (TopicPartition, Int64)?
        for e in entries {
            let tp = TopicPartition(e.topic, e.partition)
            let part: Int64
            if let (t, id) = lastTopic, t == tp { part = id } else {
                part = try partitionID(tp, db, creatingAt: e.offset)
                lastTopic = (tp, part)
            }
            let saga = try sagaID(e.correlationID, db, at: e.timestampMillis)
            let dt = e.timestampMillis &- saga.baseMillis
            let type = try e.eventType.map { try eventTypeID($0, db) }
            sqlite3_bind_int64(stmt, 1, saga.id)
            sqlite3_bind_int64(stmt, 2, dt)
            sqlite3_bind_int64(stmt, 3, part)
            sqlite3_bind_int64(stmt, 4, e.offset)
            if let type { sqlite3_bind_int64(stmt, 5, type) } else { sqlite3_bind_null(stmt, 5) }
            let rc = sqlite3_step(stmt)
            sqlite3_reset(stmt)
            guard rc == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
            }
            guard sqlite3_changes(connection) > 0 else { continue }  // indexed before
            blocks[IndexBlockKey(part: part, offset: e.offset), default: []].append(IndexBlock.Entry(offset: e.offset, saga: saga.id, dt: dt))
            var g = gains[saga.id, default: SagaGain(correlationID: e.correlationID, baseMillis: saga.baseMillis)]
            g.first = min(g.first, e.timestampMillis)
            g.last = max(g.last, e.timestampMillis)
            g.count += 1
            if let type, e.timestampMillis >= g.typeAtLastMillis {
                g.typeAtLast = type
                g.typeAtLastMillis = e.timestampMillis
            }
            gains[saga.id] = g
        }
        // Each block touched once a batch: what the batch added goes after what the block held.
        let readBlock = try db.cachedStatement(sql: "SELECT entries FROM index_blocks WHERE part = ? AND block = ?")
        let writeBlock = try db.cachedStatement(sql: "INSERT OR REPLACE INTO index_blocks(part, block, entries) VALUES (?, ?, ?)")
        for (key, added) in blocks {
            var bytes = try Data.fetchOne(readBlock, arguments: [key.part, key.block]).map { [UInt8]($0) } ?? []
            IndexBlock.appendChunk(added, to: &bytes)
            try writeBlock.execute(arguments: [key.part, key.block, Data(bytes)])
        }
        // Summaries once per saga per transaction, not per record.
        let summary = try db.cachedStatement(sql: """
            UPDATE index_sagas SET first_ms = MIN(first_ms, ?), records = records + ?,
                last_type = CASE WHEN ?3 IS NOT NULL AND ?4 >= last_ms THEN ?3 ELSE last_type END,
                last_ms = MAX(last_ms, ?5)
            WHERE id = ?6
            """)
        let revive = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO index_sagas(id, correlation_id, base_ms, first_ms, last_ms, records, last_type) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        // Bound directly: a cold index runs this about once per record (a saga's records come in different
        // batches), and GRDB's arguments cost more than SQLite's update.
        let summaryStatement = summary.sqliteStatement
        for (saga, g) in gains {
            sqlite3_bind_int64(summaryStatement, 1, g.first)
            sqlite3_bind_int64(summaryStatement, 2, Int64(g.count))
            if let type = g.typeAtLast { sqlite3_bind_int64(summaryStatement, 3, type) } else { sqlite3_bind_null(summaryStatement, 3) }
            sqlite3_bind_int64(summaryStatement, 4, g.typeAtLastMillis)
            sqlite3_bind_int64(summaryStatement, 5, g.last)
            sqlite3_bind_int64(summaryStatement, 6, saga)
            try Self.stepToEnd(summaryStatement, connection)
            if sqlite3_changes(connection) == 0 {
                // Retention (here or in another process) dropped the saga after this process cached its id:
                // it comes back under the same id, so the rows just written stay reachable.
                try revive.execute(arguments: [saga, g.correlationID, g.baseMillis, g.first, g.last, g.count, g.typeAtLast])
            }
        }
        let move = try db.cachedStatement(sql: """
            UPDATE index_partitions SET head = MAX(head, coalesce(?1, head)), tail = MIN(tail, coalesce(?2, tail)),
                head_ms = CASE WHEN ?1 IS NOT NULL AND ?1 >= head AND ?3 IS NOT NULL THEN ?3 ELSE head_ms END
            WHERE id = ?4
            """)
        for (tp, m) in moves.sorted(by: { $0.key < $1.key }) {
            let id = try partitionID(tp, db, creatingAt: m.tail ?? m.head ?? 0)
            try move.execute(arguments: [m.head, m.tail, m.headMillis, id])
        }
    }

    /// Interned IDs of this process.
    private struct Interned {
        /// The sagas of the records indexed lately (a busy cluster sees millions; a saga's records come
        /// close together, so its later records find it here): about 4 MiB a generation.
        var sagas = RecentCache<String, InternedSaga>(generation: CorrelationIndex.sagaGeneration)
        var partitions: [TopicPartition: Int64] = [:]
        var types: [String: Int64] = [:]
    }

    /// Sagas in a generation of the saga cache: 90,000 entries fit a table of 131,072 slots.
    static let sagaGeneration = 90_000

    private func partitionID(_ tp: TopicPartition, _ db: Database, creatingAt start: Int64) throws -> Int64 {
        if let id = interned.withLock({ $0.partitions[tp] }) { return id }
        let args: StatementArguments = [tp.topic, tp.partition]
        let id: Int64
        if let found = try Int64.fetchOne(db, sql: #"SELECT id FROM index_partitions WHERE topic = ? AND "partition" = ?"#, arguments: args) {
            id = found
        } else {
            try db.execute(sql: #"INSERT INTO index_partitions(topic, "partition", tail, head) VALUES (?, ?, ?, ?)"#,
                           arguments: [tp.topic, tp.partition, start, start])
            id = db.lastInsertedRowID
        }
        interned.withLock { $0.partitions[tp] = id }
        return id
    }

    /// A saga's id and the time its entries' `dt` counts from.
    private struct InternedSaga {
        var id: Int64
        var baseMillis: Int64
    }

    private func sagaID(_ correlationID: String, _ db: Database, at millis: Int64) throws -> InternedSaga {
        if let saga = interned.withLock({ $0.sagas.value(correlationID) }) { return saga }
        let saga: InternedSaga
        let connection = db.sqliteConnection
        // Bound directly, as the entries are: on a cold index this runs for every new saga.
        let find = try db.cachedStatement(sql: "SELECT id, base_ms FROM index_sagas WHERE correlation_id = ?").sqliteStatement
        SQLiteColumns.bindText(find, 1, correlationID)
        let rc = sqlite3_step(find)
        defer { sqlite3_reset(find) }
        if rc == SQLITE_ROW {
            saga = InternedSaga(id: sqlite3_column_int64(find, 0), baseMillis: sqlite3_column_int64(find, 1))
        } else if rc == SQLITE_DONE {
            // Counts and times come with the batch's summary update.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO index_sagas(correlation_id, base_ms, first_ms, last_ms, records) VALUES (?1, ?2, ?2, ?2, 0)
                """).sqliteStatement
            SQLiteColumns.bindText(insert, 1, correlationID)
            sqlite3_bind_int64(insert, 2, millis)
            try Self.stepToEnd(insert, connection)
            saga = InternedSaga(id: sqlite3_last_insert_rowid(connection), baseMillis: millis)
        } else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
        }
        interned.withLock { $0.sagas.insert(correlationID, saga) }
        return saga
    }

    /// Steps a statement whose values are bound to its end, then resets it.
    private static func stepToEnd(_ statement: OpaquePointer?, _ connection: OpaquePointer?) throws {
        let rc = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    private func eventTypeID(_ name: String, _ db: Database) throws -> Int64 {
        if let id = interned.withLock({ $0.types[name] }) { return id }
        let id: Int64
        if let found = try Int64.fetchOne(db, sql: "SELECT id FROM index_event_types WHERE name = ?", arguments: [name]) {
            id = found
        } else {
            try db.execute(sql: "INSERT INTO index_event_types(name) VALUES (?)", arguments: [name])
            id = db.lastInsertedRowID
        }
        interned.withLock { cache in
            if cache.types.count >= 100_000 { cache.types.removeAll() }
            cache.types[name] = id
        }
        return id
    }

    /// Drops what the index holds for these partitions (entries and coverage) and recomputes the
    /// summaries of the sagas they held: for a partition that now ends before its head, which only a
    /// topic deleted and recreated under the same name does.
    public func forget(_ partitions: [TopicPartition]) async throws {
        guard writable else { throw StoreError.readOnly(path) }
        guard !partitions.isEmpty else { return }
        try await file.write { db in
            for tp in partitions {
                guard let part = try Int64.fetchOne(db, sql: #"SELECT id FROM index_partitions WHERE topic = ? AND "partition" = ?"#,
                                                    arguments: [tp.topic, tp.partition]) else { continue }
                // Rare (a recreated topic): the partition's blocks name its entries and their sagas.
                let sagas = try Self.dropBlocks(db, part: part, below: .max)
                try db.execute(sql: "UPDATE index_partitions SET tail = 0, head = 0, head_ms = NULL WHERE id = ?", arguments: [part])
                for saga in sagas.keys {
                    try db.execute(sql: """
                        UPDATE index_sagas SET
                            first_ms = coalesce((SELECT MIN(dt) FROM index_refs WHERE saga = ?1) + base_ms, first_ms),
                            last_ms = coalesce((SELECT MAX(dt) FROM index_refs WHERE saga = ?1) + base_ms, last_ms),
                            records = (SELECT COUNT(*) FROM index_refs WHERE saga = ?1),
                            last_type = (SELECT type FROM index_refs WHERE saga = ?1 AND type IS NOT NULL ORDER BY dt DESC LIMIT 1)
                        WHERE id = ?1
                        """, arguments: [saga])
                    try db.execute(sql: "DELETE FROM index_sagas WHERE id = ? AND records = 0", arguments: [saga])
                }
            }
        }
        interned.withLock { cache in
            cache.sagas.removeAll()  // forgotten sagas are gone; their ids are never reused, but the cache would recreate nothing
        }
    }

    /// Drops the entries of records below `offset` in one partition (retention deleted them), in the
    /// caller's transaction: their sagas' counts go down, a saga left without records goes, and the
    /// partition's coverage starts at `offset` at the earliest. Found through the partition's blocks
    /// (`index_blocks`), so it costs what it drops plus at most one block's other entries. Nothing happens
    /// in a file without the index's tables.
    public static func dropEntries(_ db: Database, topic: String, partition: Int32, below offset: Int64) throws {
        guard let part = try Int64.fetchOne(db.cachedStatement(sql: #"SELECT id FROM index_partitions WHERE topic = ? AND "partition" = ?"#),
                                            arguments: [topic, partition]) else { return }
        let losses = try dropBlocks(db, part: part, below: offset)
        if !losses.isEmpty {
            let lose = try db.cachedStatement(sql: """
                UPDATE index_sagas SET records = records - ?2,
                    first_ms = coalesce((SELECT MIN(dt) FROM index_refs WHERE saga = ?1) + base_ms, first_ms)
                WHERE id = ?1
                """)
            let drop = try db.cachedStatement(sql: "DELETE FROM index_sagas WHERE id = ? AND records <= 0")
            for (saga, n) in losses {
                try lose.execute(arguments: [saga, n])
                try drop.execute(arguments: [saga])
            }
        }
        try db.cachedStatement(sql: """
            UPDATE index_partitions SET tail = MAX(tail, ?1), head = MAX(head, ?1) WHERE id = ?2
            """).execute(arguments: [offset, part])
    }

    /// Deletes the entries of partition `part` below `offset` and their place in its blocks; returns how
    /// many each saga lost. Blocks wholly below go; the block `offset` falls in keeps what is at or above it.
    static func dropBlocks(_ db: Database, part: Int64, below offset: Int64) throws -> [Int64: Int64] {
        guard offset > 0 else { return [:] }
        let lastBlock = (offset - 1) >> blockShift
        var losses: [Int64: Int64] = [:]
        let blocks = try Row.fetchAll(db.cachedStatement(sql: "SELECT block, entries FROM index_blocks WHERE part = ? AND block <= ?"),
                                      arguments: [part, lastBlock])
        let delete = try db.cachedStatement(sql: #"DELETE FROM index_refs WHERE saga = ? AND dt = ? AND part = ? AND "offset" = ?"#)
        for row in blocks {
            let block: Int64 = try row.value(at: 0, of: "index_blocks")
            let bytes: Data = try row.value(at: 1, of: "index_blocks")
            // An unreadable block (a damaged file) goes without its entries: this runs inside the store's
            // retention, which must not fail over a rebuildable index. Its entries stay, pointing at
            // deleted records (a saga then shows them missing), until the index is rebuilt.
            let entries = (try? IndexBlock.decode([UInt8](bytes), block: block)) ?? []
            var kept: [IndexBlock.Entry] = []
            for e in entries {
                if e.offset < offset {
                    try delete.execute(arguments: [e.saga, e.dt, part, e.offset])
                    if db.changesCount > 0 { losses[e.saga, default: 0] += 1 }
                } else {
                    kept.append(e)
                }
            }
            if kept.isEmpty {
                try db.cachedStatement(sql: "DELETE FROM index_blocks WHERE part = ? AND block = ?").execute(arguments: [part, block])
            } else if kept.count != entries.count {
                var packed: [UInt8] = []
                IndexBlock.appendChunk(kept, to: &packed)
                try db.cachedStatement(sql: "UPDATE index_blocks SET entries = ? WHERE part = ? AND block = ?")
                    .execute(arguments: [Data(packed), part, block])
            }
        }
        return losses
    }

    /// ``dropEntries(_:topic:partition:below:)`` for every partition whose log now starts above what the
    /// index covers (`lows`: each partition's low watermark), in one transaction of at most `budget` offsets
    /// over every partition: for a log whose retention runs elsewhere (a Kafka broker), called again while
    /// it returns more than 0. Returns the offsets still to trim.
    @discardableResult
    public func trim(below lows: [TopicPartition: Int64], budget: Int64 = trimChunk) async throws -> Int64 {
        guard writable else { throw StoreError.readOnly(path) }
        let coverage = try await coverage()
        var left = max(1, budget)
        var cuts: [(TopicPartition, Int64)] = []
        var remaining: Int64 = 0
        for (tp, low) in lows.sorted(by: { $0.key < $1.key }) {
            guard let c = coverage[tp], c.tail < low else { continue }
            let upTo = left > 0 ? min(low, c.tail.addingSaturating(left)) : c.tail
            if upTo > c.tail { cuts.append((tp, upTo)) }
            left -= upTo - c.tail
            remaining += low - upTo
        }
        if !cuts.isEmpty {
            try await file.write { [cuts] db in
                for (tp, upTo) in cuts { try Self.dropEntries(db, topic: tp.topic, partition: tp.partition, below: upTo) }
            }
        }
        return remaining
    }

    /// Offsets ``trim(below:budget:)`` drops per call by default.
    public static let trimChunk: Int64 = 50_000

    // MARK: - Reading

    /// How far each partition is indexed going forward (the next offset to index).
    public func cursors() async throws -> [TopicPartition: Int64] {
        try await coverage().mapValues(\.head)
    }

    /// Which stretch of each partition is indexed.
    public func coverage() async throws -> [TopicPartition: Coverage] {
        try await file.read { db in
            var out: [TopicPartition: Coverage] = [:]
            let rows = try Row.fetchCursor(db, sql: #"SELECT topic, "partition", tail, head, head_ms FROM index_partitions"#)
            while let row = try rows.next() {
                out[TopicPartition(try self.decode(row, 0), try self.decode(row, 1))] =
                    Coverage(tail: try self.decode(row, 2), head: try self.decode(row, 3), headMillis: try self.decode(row, 4) as Int64?)
            }
            return out
        }
    }

    /// The records of one correlation ID, oldest first, at most `limit` (the newest `limit` when there are more).
    /// One lookup of the ID, then one stretch of the records' primary key: O(result), never a scan.
    public func records(correlationID id: String, limit: Int = 10_000) async throws -> [SagaEventRef] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            var refs: [SagaEventRef] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT p.topic, p."partition", r."offset", s.base_ms + r.dt, t.name
                FROM index_sagas s
                JOIN index_refs r ON r.saga = s.id
                JOIN index_partitions p ON p.id = r.part
                LEFT JOIN index_event_types t ON t.id = r.type
                WHERE s.correlation_id = ?
                ORDER BY r.dt DESC, p.topic DESC, p."partition" DESC, r."offset" DESC LIMIT ?
                """), arguments: [id, limit])
            while let row = try rows.next() {
                refs.append(SagaEventRef(topic: try self.decode(row, 0), partition: try self.decode(row, 1),
                                         offset: try self.decode(row, 2), timestampMillis: try self.decode(row, 3),
                                         eventType: try self.decode(row, 4) as String?))
            }
            return refs.reversed()
        }
    }

    /// The correlation IDs with the newest records, newest first (the `last_ms` index: O(limit)).
    public func recentCorrelations(limit: Int) async throws -> [CorrelationSummary] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            var out: [CorrelationSummary] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT s.correlation_id, s.first_ms, s.last_ms, s.records, t.name
                FROM index_sagas s INDEXED BY index_sagas_by_last LEFT JOIN index_event_types t ON t.id = s.last_type
                WHERE s.records > 0
                ORDER BY s.last_ms DESC, s.correlation_id DESC LIMIT ?
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
                SELECT correlation_id FROM index_sagas WHERE correlation_id >= ? AND correlation_id < ? AND records > 0
                ORDER BY correlation_id LIMIT ?
                """), arguments: [prefix, prefix + "\u{10FFFF}", limit])
        }
    }

    /// Records indexed in total (a count over the index, for status lines and benchmarks).
    public func indexedRecordCount() async throws -> Int64 {
        try await file.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM index_refs") ?? 0 }
    }

    // MARK: - Internals

    private func decode<T: DatabaseValueConvertible>(_ row: Row, _ index: Int) throws -> T {
        try row.value(at: index, of: path)
    }
}

/// Where an entry's place in `index_blocks` is: its partition's id and the stretch of offsets.
struct IndexBlockKey: Hashable {
    var part: Int64
    var block: Int64

    init(part: Int64, offset: Int64) {
        self.part = part
        self.block = offset >> CorrelationIndex.blockShift
    }
}

/// The packed entries of one `index_blocks` row, in the order they were indexed: chunks, one per write
/// transaction that touched the block, each `varint(count)` then its entries as three zigzag varints: the offset's
/// step from the one before (the first from the block's start), the saga id's step from the one before
/// (the first from 0), and the entry's `dt`. A partition's records come in order and their sagas were
/// interned in about that order, so an entry takes three to four bytes.
enum IndexBlock {
    struct Entry: Equatable {
        var offset: Int64
        var saga: Int64
        var dt: Int64
    }

    /// Appends `entries` as one chunk (entries of one block).
    static func appendChunk(_ entries: [Entry], to out: inout [UInt8]) {
        guard let first = entries.first else { return }
        Varint.append(UInt64(entries.count), to: &out)
        var offset = (first.offset >> CorrelationIndex.blockShift) << CorrelationIndex.blockShift
        var saga: Int64 = 0
        for e in entries {
            Varint.append(zigzag(e.offset &- offset), to: &out)
            Varint.append(zigzag(e.saga &- saga), to: &out)
            Varint.append(zigzag(e.dt), to: &out)
            offset = e.offset
            saga = e.saga
        }
    }

    /// The entries of a block's bytes; throws when they are cut short or an entry falls outside the block.
    static func decode(_ bytes: [UInt8], block: Int64) throws -> [Entry] {
        var out: [Entry] = []
        var i = bytes.startIndex
        let start = block << CorrelationIndex.blockShift
        while i < bytes.endIndex {
            let count = try Varint.read(bytes, at: &i)
            guard count > 0, count <= UInt64(bytes.count) else { throw Varint.Malformed() }
            var offset = start
            var saga: Int64 = 0
            for _ in 0..<count {
                offset = offset &+ unzigzag(try Varint.read(bytes, at: &i))
                saga = saga &+ unzigzag(try Varint.read(bytes, at: &i))
                let dt = unzigzag(try Varint.read(bytes, at: &i))
                guard offset >= start, offset &- start < CorrelationIndex.blockSpan else { throw Varint.Malformed() }
                out.append(Entry(offset: offset, saga: saga, dt: dt))
            }
        }
        return out
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
}
