import EventModel
import Foundation
import Synchronization
import GRDB
import GRDBSQLite
import SQLiteSupport

/// The embedded broker log: one SQLite file in WAL mode with Kafka semantics.
///
/// Several `SQLiteLog`s — in one process or in several — may open the same file:
/// readers never block, writers serialize on SQLite's write lock and wait up to
/// ``busyTimeout`` for it. Watermarks live in the `partitions` table and are
/// updated in the same transaction as the records, so ``snapshot()`` costs
/// O(partitions + group offsets) and never scans records.
public final class SQLiteLog: LogReader, LogWriter, DemoSetup, RecordRetention {
    /// How a store is opened.
    public enum OpenMode: Sendable {
        /// Reads and writes; creates the store only where no file exists. An existing file must be an
        /// evtop store: an empty file, or any other file, is refused and left untouched.
        case readWrite
        /// Reads and writes an existing store; never creates one (a missing file throws ``StoreError/missing(_:)``).
        case readWriteExisting
        /// Never creates or modifies anything; every write throws ``StoreError/readOnly(_:)``. Also opens
        /// a store in a folder that cannot be written (as an immutable file, see `SQLiteFile`).
        case readOnly
    }

    /// A member counts as alive when its last heartbeat or commit is at most this old (seconds).
    public static let memberLivenessWindow: TimeInterval = 10
    /// Bytes the WAL is cut back to after a checkpoint that resets it (`PRAGMA journal_size_limit`).
    public static let walSizeLimit = 64 * 1024 * 1024
    /// How long a write waits for another connection or process holding the write lock (seconds).
    public static let busyTimeout: TimeInterval = 5
    /// Members silent for longer than this (seconds) are forgotten on the group's next commit or heartbeat.
    public static let memberRetention: TimeInterval = 24 * 3600
    /// The schema version this build reads and writes.
    public static let schemaVersion = StoreFormat.schemaVersion
    /// `PRAGMA application_id` of evtop stores (ASCII "evtp").
    public static let applicationID = StoreFormat.applicationID

    /// The file's path as given.
    public let path: String
    /// How the store was opened.
    public let mode: OpenMode
    /// The file (internal: the span store in SpanStore.swift shares it).
    let file: SQLiteFile
    private let roundRobin = RoundRobin()
    /// The span tables' string dictionary, cached (SpanStrings.swift).
    let spanStrings = SpanStrings()
    /// The store's id (``StoreFormat/storeID(_:)``); nil for a store of an older evtop opened read-only.
    private let storeID: String?

    /// `sqlite:` followed by the path.
    public var sourceDescription: String { "sqlite:" + path }

    /// Offsets are given one a record, and retention removes records from the front only.
    public var positionsHoldRecords: Bool { true }

    /// Opens (and in `.readWrite` mode, creates where no file exists) the store at `path`.
    ///
    /// Anything that is not a healthy evtop store of a supported schema throws a ``StoreError``
    /// before the file is modified; so does a store this process cannot write, unless opened `.readOnly`
    /// (``StoreError/notWritable(_:_:)``).
    public init(path: String, mode: OpenMode = .readWrite) throws {
        self.path = path
        self.mode = mode
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        var exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { throw StoreError.cannotOpen(path, "it is a directory") }
        if let problem = StoreNames.problem(path) { throw StoreError.severalNames(path, problem) }
        if !exists {
            switch mode {
            case .readOnly, .readWriteExisting: throw StoreError.missing(path)
            case .readWrite: exists = !(try StoreFormat.createStore(at: path))
            }
        }
        if exists {
            // Someone's file: it must be a store already. An empty file is not one, whatever the mode.
            let size = ((try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0
            guard size > 0 else { throw StoreError.emptyFile(path) }
            guard try StoreFormat.inspect(path: path) == .store else { throw StoreError.notAnEvtopStore(path) }
        }
        if mode != .readOnly, let reason = SQLiteFile.writeBlocker(path) {
            throw StoreError.notWritable(path, reason)
        }

        file = try SQLiteFile(
            path: path,
            options: .init(readOnly: mode == .readOnly, busyTimeout: Self.busyTimeout, label: "evtop.store", maximumReaderCount: 4,
                           // A burst of writes (span pruning, a demo at full rate) grows the WAL; after the
                           // next checkpoint that resets it, SQLite cuts it back to this size instead of
                           // keeping its high-water mark on disk.
                           connectionPragmas: mode == .readOnly ? [] : ["PRAGMA journal_size_limit = \(Self.walSizeLimit)"],
                           immutable: mode == .readOnly && SQLiteFile.mustOpenImmutable(path),
                           walRestartBytes: 2 * Int64(Self.walSizeLimit)),
            translate: mode == .readOnly ? StoreError.translate : StoreError.translateWriting)
        if mode != .readOnly {
            storeID = try file.write { db in
                try StoreFormat.createSchemaIfNeeded(db, path: path)
                try StoreFormat.ensureStoreID(db)
                try CorrelationIndex.ensureCorrelationTables(db)
                try SQLiteLog.ensureSpanTables(db, path: path)
                try StoreFormat.markCurrentVersion(db)
                return try StoreFormat.storeID(db)
            }
        } else {
            storeID = try file.read { db in try StoreFormat.storeID(db) }
        }
    }

    // MARK: - Reading, writing, demo setup

    /// Topics with watermarks and groups with offsets, commit times and live member counts.
    public func snapshot() async throws -> BrokerSnapshot {
        let now = Date()
        let liveSince = Self.millis(now) - Int64(Self.memberLivenessWindow * 1000)
        return try await file.read { db in
            var topics: [TopicInfo] = []
            let partitions = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT topic, "partition", low, high FROM partitions ORDER BY topic, "partition"
                """))
            while let row = try partitions.next() {
                let name: String = try self.column(row, 0)
                let wm = PartitionWatermarks(partition: try self.column(row, 1), low: try self.column(row, 2),
                                             high: try self.column(row, 3))
                // Values another writer may have put there must still make sense as a log.
                guard wm.partition >= 0, wm.low >= 0, wm.low <= wm.high else {
                    throw StoreError.corrupt(self.path, "impossible watermarks for \(name)/\(wm.partition): low \(wm.low), high \(wm.high)")
                }
                if topics.last?.name == name {
                    topics[topics.count - 1].partitions.append(wm)
                } else {
                    topics.append(TopicInfo(name: name, partitions: [wm]))
                }
            }
            topics.sort { $0.name < $1.name }

            var groups: [String: ConsumerGroup] = [:]
            func group(_ id: String) -> ConsumerGroup {
                groups[id] ?? ConsumerGroup(id: id, state: "Empty", members: 0, offsets: [:])
            }
            let offsets = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT group_id, topic, "partition", committed, committed_at FROM group_offsets
                """))
            while let row = try offsets.next() {
                let id: String = try self.column(row, 0)
                var g = group(id)
                let tp = TopicPartition(try self.column(row, 1), try self.column(row, 2))
                let committed: Int64 = try self.column(row, 3)
                guard committed >= 0 else {
                    throw StoreError.corrupt(self.path, "negative committed offset for group \(id) on \(tp.topic)/\(tp.partition)")
                }
                g.offsets[tp] = committed
                g.commitTimesMillis[tp] = try self.column(row, 4)
                groups[id] = g
            }
            let members = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT group_id, SUM(last_seen >= ?) FROM group_members GROUP BY group_id
                """), arguments: [liveSince])
            while let row = try members.next() {
                let id: String = try self.column(row, 0)
                var g = group(id)
                g.members = try self.column(row, 1)
                g.state = g.members > 0 ? "Stable" : "Empty"
                groups[id] = g
            }
            return BrokerSnapshot(time: now, topics: topics,
                                  groups: groups.values.sorted { $0.id < $1.id })
        }
    }

    /// One topic's watermarks, read from its partition rows only.
    public func watermarks(topic: String) async throws -> TopicInfo {
        try await file.read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT "partition", low, high FROM partitions WHERE topic = ? ORDER BY "partition"
                """), arguments: [topic])
            guard !rows.isEmpty else { throw BrokerError.unknownTopic(topic) }
            let partitions = try rows.map { row in
                PartitionWatermarks(partition: try self.column(row, 0), low: try self.column(row, 1), high: try self.column(row, 2))
            }
            return TopicInfo(name: topic, partitions: partitions)
        }
    }

    /// Creates `name` with `partitions` partitions; an existing topic is left as it is.
    public func createTopic(_ name: String, partitions: Int32) async throws {
        try checkWritable()
        guard !name.isEmpty, name.utf8.count <= 249 else {
            throw BrokerError.writeRefused("topic names must be 1 to 249 bytes long")
        }
        guard partitions >= 1 else {
            throw BrokerError.writeRefused("topic '\(name)' needs at least one partition (got \(partitions))")
        }
        let now = Self.nowMillis()
        try await file.write { db in
            guard try Int32.fetchOne(db.cachedStatement(sql: "SELECT partitions FROM topics WHERE name = ?"),
                                     arguments: [name]) == nil else { return }
            try db.cachedStatement(sql: "INSERT INTO topics(name, partitions, created_at) VALUES (?, ?, ?)")
                .execute(arguments: [name, partitions, now])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO partitions(topic, "partition", low, high) VALUES (?, ?, 0, 0)
                """)
            for p in 0..<partitions { try insert.execute(arguments: [name, p]) }
        }
    }

    /// Appends all records in one transaction; offsets continue from each partition's high watermark.
    ///
    /// Unknown topics throw ``BrokerError/unknownTopic(_:)`` (topics are never created implicitly) and
    /// unknown partitions ``BrokerError/unknownPartition(_:_:)``; either way nothing is written.
    @discardableResult
    public func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] {
        try checkWritable()
        if records.isEmpty { return [] }
        let roundRobin = self.roundRobin
        return try await file.write { db in
            let partitionCount = try db.cachedStatement(sql: "SELECT partitions FROM topics WHERE name = ?")
            let highOf = try db.cachedStatement(sql: """
                SELECT high FROM partitions WHERE topic = ? AND "partition" = ?
                """)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO records(topic, "partition", "offset", ts, key, headers, value)
                VALUES (?, ?, ?, ?, CASE WHEN ? THEN X'' ELSE ? END, ?, CASE WHEN ? THEN X'' ELSE ? END)
                """)
            var counts: [String: Int32] = [:]
            var highs: [TopicPartition: Int64] = [:]
            var positions: [RecordPosition] = []
            positions.reserveCapacity(records.count)
            for record in records {
                let count: Int32
                if let known = counts[record.topic] {
                    count = known
                } else {
                    guard let found = try Int32.fetchOne(partitionCount, arguments: [record.topic]) else {
                        throw BrokerError.unknownTopic(record.topic)
                    }
                    counts[record.topic] = found
                    count = found
                }
                let partition: Int32
                if let p = record.partition {
                    guard p >= 0 && p < count else { throw BrokerError.unknownPartition(record.topic, p) }
                    partition = p
                } else if let key = record.key {
                    partition = KeyPartitioner.partition(for: key, count: count)
                } else {
                    partition = roundRobin.next(record.topic, count: count)
                }
                let tp = TopicPartition(record.topic, partition)
                let offset: Int64
                if let h = highs[tp] {
                    offset = h
                } else {
                    guard let h = try Int64.fetchOne(highOf, arguments: [record.topic, partition]) else {
                        throw BrokerError.unknownPartition(record.topic, partition)
                    }
                    offset = h
                }
                insert.setUncheckedArguments([
                    record.topic, partition, offset, record.timestampMillis,
                    record.key?.isEmpty == true, record.key.map { Data($0) },
                    HeaderCodec.encode(record.headers).map { Data($0) },
                    record.value?.isEmpty == true, record.value.map { Data($0) },
                ])
                try insert.execute()
                guard offset < Int64.max else { throw BrokerError.writeRefused("partition \(tp.topic)/\(tp.partition) is full") }
                highs[tp] = offset + 1
                positions.append(RecordPosition(topic: record.topic, partition: partition, offset: offset))
            }
            let setHigh = try db.cachedStatement(sql: """
                UPDATE partitions SET high = ? WHERE topic = ? AND "partition" = ?
                """)
            for (tp, high) in highs {
                try setHigh.execute(arguments: [high, tp.topic, tp.partition])
            }
            return positions
        }
    }

    /// Up to `maxRecords` records of one partition with offsets ≥ `offset`, ascending, and the offset after
    /// the last (the store's offsets are dense: there is nothing to skip).
    public func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [EventModel.Record], next: Int64) {
        let records = try await records(topic: topic, partition: partition, from: offset, maxRecords: maxRecords)
        return (records, records.last.map { $0.offset + 1 } ?? offset)
    }

    /// A single transaction appends every record: a batch lands whole or not at all, once.
    public var producesIdempotently: Bool { true }

    /// `sqlite-STOREID`: one identity however the file is reached. Its correlation index lives inside
    /// the file; the journals older evtops kept beside it (`PATH.redrive`) are named as former journals.
    public func identity() async -> SourceIdentity? {
        var formers = [path + ".redrive"]
        if let real = realpath(path, nil) {
            formers.append(String(cString: real) + ".redrive")
            free(real)
        }
        formers = formers.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        guard let storeID else {
            return SourceIdentity(stem: "sqlite-unidentified", storeFile: path, formerJournals: formers, isProvisional: true)
        }
        return SourceIdentity(stem: "sqlite-" + storeID, storeFile: path, formerJournals: formers)
    }

    private func records(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> [EventModel.Record] {
        let path = self.path
        return try await file.read { db in
            guard let count = try Int32.fetchOne(
                db.cachedStatement(sql: "SELECT partitions FROM topics WHERE name = ?"), arguments: [topic])
            else { throw BrokerError.unknownTopic(topic) }
            guard partition >= 0 && partition < count else {
                throw BrokerError.unknownPartition(topic, partition)
            }
            guard maxRecords > 0 else { return [] }
            // Straight through SQLite's C API: the indexer and the insights sampler read every new record
            // this way, and GRDB's rows (a value box per column, then Data, then an array) cost more than the read.
            let statement = try db.cachedStatement(sql: """
                SELECT "offset", ts, key, headers, value FROM records
                WHERE topic = ? AND "partition" = ? AND "offset" >= ?
                ORDER BY "offset" LIMIT ?
                """)
            let stmt = statement.sqliteStatement
            sqlite3_reset(stmt)
            defer {
                sqlite3_reset(stmt)
                sqlite3_clear_bindings(stmt)
            }
            SQLiteColumns.bindText(stmt, 1, topic)
            sqlite3_bind_int64(stmt, 2, Int64(partition))
            sqlite3_bind_int64(stmt, 3, offset)
            sqlite3_bind_int64(stmt, 4, Int64(maxRecords))
            var records: [EventModel.Record] = []
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                guard sqlite3_column_type(stmt, 0) == SQLITE_INTEGER, sqlite3_column_type(stmt, 1) == SQLITE_INTEGER else {
                    throw SQLiteFailure.corrupt(path: path, detail: "unexpected value in the offset or timestamp of a record in \(topic)/\(partition)")
                }
                let recordOffset = sqlite3_column_int64(stmt, 0)
                let headers: [RecordHeader]
                if let blob = SQLiteColumns.bytes(stmt, 3) {
                    do {
                        headers = try HeaderCodec.decode(blob)
                    } catch {
                        throw StoreError.corrupt(path, "malformed headers in \(topic)/\(partition)@\(recordOffset)")
                    }
                } else {
                    headers = []
                }
                records.append(EventModel.Record(
                    topic: topic, partition: partition, offset: recordOffset, timestampMillis: sqlite3_column_int64(stmt, 1),
                    key: SQLiteColumns.bytes(stmt, 2), headers: headers, value: SQLiteColumns.bytes(stmt, 4)))
            }
            return records
        }
    }

    /// Commits `offsets` for `group` (each the next offset to read) and marks `member` alive.
    public func commit(group: String, member: String, offsets: [TopicPartition: Int64]) async throws {
        try checkWritable()
        let now = Self.nowMillis()
        try await file.write { db in
            let partitionCount = try db.cachedStatement(sql: "SELECT partitions FROM topics WHERE name = ?")
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO group_offsets(group_id, topic, "partition", committed, committed_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(group_id, topic, "partition")
                DO UPDATE SET committed = excluded.committed, committed_at = excluded.committed_at
                """)
            for (tp, committed) in offsets.sorted(by: { $0.key < $1.key }) {
                guard let count = try Int32.fetchOne(partitionCount, arguments: [tp.topic]) else {
                    throw BrokerError.unknownTopic(tp.topic)
                }
                guard tp.partition >= 0 && tp.partition < count else {
                    throw BrokerError.unknownPartition(tp.topic, tp.partition)
                }
                guard committed >= 0 else {
                    throw BrokerError.writeRefused("offset \(committed) for \(tp.topic)/\(tp.partition) is negative")
                }
                try upsert.execute(arguments: [group, tp.topic, tp.partition, committed, now])
            }
            try Self.touch(db, group: group, member: member, now: now)
        }
    }

    /// Marks `member` of `group` alive.
    public func heartbeat(group: String, member: String) async throws {
        try checkWritable()
        let now = Self.nowMillis()
        try await file.write { db in try Self.touch(db, group: group, member: member, now: now) }
    }

    // MARK: - Extras

    /// Deletes the records of a partition below `offset` and advances its low watermark (retention).
    ///
    /// `offset` is clamped to the high watermark; a low watermark never moves back.
    /// Returns the number of records deleted.
    @discardableResult
    public func deleteRecords(topic: String, partition: Int32, before offset: Int64) async throws -> Int64 {
        try checkWritable()
        return try await file.write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT low, high FROM partitions WHERE topic = ? AND "partition" = ?
                """), arguments: [topic, partition]) else {
                if try Int32.fetchOne(db, sql: "SELECT partitions FROM topics WHERE name = ?", arguments: [topic]) == nil {
                    throw BrokerError.unknownTopic(topic)
                }
                throw BrokerError.unknownPartition(topic, partition)
            }
            let low: Int64 = try self.column(row, 0), high: Int64 = try self.column(row, 1)
            let newLow = min(max(offset, low), high)
            guard newLow > low else { return 0 }
            try db.cachedStatement(sql: """
                DELETE FROM records WHERE topic = ? AND "partition" = ? AND "offset" < ?
                """).execute(arguments: [topic, partition, newLow])
            let deleted = Int64(db.changesCount)
            try db.cachedStatement(sql: """
                UPDATE partitions SET low = ? WHERE topic = ? AND "partition" = ?
                """).execute(arguments: [newLow, topic, partition])
            try CorrelationIndex.dropEntries(db, topic: topic, partition: partition, below: newLow)
            return deleted
        }
    }

    /// Records deleted per write transaction by ``pruneRecords(_:now:)``.
    static let recordPruneChunk: Int64 = 5_000

    /// Deletes each partition's oldest records beyond `policy` (its age at `now`, its count), in chunks of
    /// ``recordPruneChunk`` from the front of the partition, each in its own short write transaction (as
    /// span pruning does), so the store's other writers never wait long and the WAL is checkpointed between
    /// chunks. Each chunk moves the partition's low watermark up and drops the correlation index's entries
    /// for the records it deleted, in the same transaction. Returns how many records went.
    @discardableResult
    public func pruneRecords(_ policy: RecordRetentionPolicy, now: Date) async throws -> Int64 {
        try checkWritable()
        guard policy.isOn else { return 0 }
        let cutoff = policy.cutoffMillis(now: now)
        let chunk = Self.recordPruneChunk
        let partitions = try await file.read { db in
            try Row.fetchAll(db, sql: #"SELECT topic, "partition" FROM partitions ORDER BY topic, "partition""#)
                .map { row -> TopicPartition in TopicPartition(try self.column(row, 0), try self.column(row, 1)) }
        }
        var deleted: Int64 = 0
        for tp in partitions {
            while true {
                try Task.checkCancellation()
                let gone = try await file.write { db in
                    try Self.pruneFront(db, tp, cutoffMillis: cutoff, maxRecords: policy.maxRecordsPerPartition, chunk: chunk, path: self.path)
                }
                deleted += gone
                if gone < chunk { break }
            }
        }
        return deleted
    }

    /// One chunk of retention on one partition (the caller's transaction): returns the records deleted.
    private static func pruneFront(_ db: Database, _ tp: TopicPartition, cutoffMillis: Int64?, maxRecords: Int64?,
                                   chunk: Int64, path: String) throws -> Int64 {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT low, high FROM partitions WHERE topic = ? AND "partition" = ?
            """), arguments: [tp.topic, tp.partition]) else { return 0 }
        let low: Int64 = try row.value(at: 0, of: path), high: Int64 = try row.value(at: 1, of: path)
        var front: [(offset: Int64, timestampMillis: Int64)] = []
        // The front is read only when its first record is old enough to go (most passes: it is not).
        if let cutoffMillis, high > low,
           let first = try Int64.fetchOne(db.cachedStatement(sql: """
               SELECT ts FROM records WHERE topic = ? AND "partition" = ? AND "offset" = ?
               """), arguments: [tp.topic, tp.partition, low]),
           first < cutoffMillis {
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT "offset", ts FROM records WHERE topic = ? AND "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?
                """), arguments: [tp.topic, tp.partition, low, chunk])
            while let r = try rows.next() { front.append((try r.value(at: 0, of: path), try r.value(at: 1, of: path))) }
        }
        let newLow = RecordRetentionPolicy.newLow(low: low, high: high, front: front, cutoffMillis: cutoffMillis,
                                                  maxRecords: maxRecords, chunk: chunk)
        guard newLow > low else { return 0 }
        try db.cachedStatement(sql: """
            DELETE FROM records WHERE topic = ? AND "partition" = ? AND "offset" >= ? AND "offset" < ?
            """).execute(arguments: [tp.topic, tp.partition, low, newLow])
        try db.cachedStatement(sql: """
            UPDATE partitions SET low = ? WHERE topic = ? AND "partition" = ?
            """).execute(arguments: [newLow, tp.topic, tp.partition])
        try CorrelationIndex.dropEntries(db, topic: tp.topic, partition: tp.partition, below: newLow)
        // The watermarks say how many went: the store's offsets are dense.
        return newLow - low
    }

    /// Folds the WAL into the file and closes the store (see `SQLiteFile.close()`): a writer that ends
    /// leaves no `-wal` content behind. Every later call fails.
    public func close() {
        file.close()
    }

    /// Records retained across all partitions (sum of high − low): O(partitions).
    public func recordCount() throws -> Int64 {
        try file.read { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(high - low), 0) FROM partitions") ?? 0
        }
    }

    // MARK: - Internals

    static func nowMillis() -> Int64 { millis(Date()) }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func touch(_ db: Database, group: String, member: String, now: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO group_members(group_id, member, last_seen) VALUES (?, ?, ?)
            ON CONFLICT(group_id, member) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)
            """).execute(arguments: [group, member, now])
        try db.cachedStatement(sql: "DELETE FROM group_members WHERE group_id = ? AND last_seen < ?")
            .execute(arguments: [group, now - Int64(memberRetention * 1000)])
    }

    func checkWritable() throws {
        if mode == .readOnly { throw StoreError.readOnly(path) }
    }
}

/// Per-topic round-robin partition choice for records without key or partition.
private final class RoundRobin: Sendable {
    private let counters = Mutex<[String: UInt32]>([:])

    func next(_ topic: String, count: Int32) -> Int32 {
        guard count > 0 else { return 0 }  // a store with a zero-partition topic must not divide by zero
        return counters.withLock { next in
            let n = next[topic, default: 0]
            next[topic] = n &+ 1
            return Int32(n % UInt32(count))
        }
    }
}

extension SQLiteLog {
    /// A column decoded as `T`; something else there is corrupt (see `Row.value(at:of:)`).
    func column<T: DatabaseValueConvertible>(_ row: Row, _ index: Int) throws -> T {
        try row.value(at: index, of: path)
    }
}

/// Reading columns of a statement stepped through SQLite's C API.
enum SQLiteColumns {
    /// SQLite's "copy the bytes now" destructor (the C macro is not imported).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `text` to parameter `index` of a statement, copied (SQLite keeps no pointer into Swift's
    /// storage): the per-record paths bind directly, where GRDB's arguments cost more than SQLite's work.
    static func bindText(_ statement: OpaquePointer?, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            _ = utf8.withMemoryRebound(to: CChar.self) { chars in
                sqlite3_bind_text(statement, index, chars.baseAddress, Int32(chars.count), transient)
            }
        }
    }

    /// The bytes of a BLOB or TEXT column, nil for NULL (an empty BLOB is empty, not nil).
    static func bytes(_ stmt: OpaquePointer?, _ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(stmt, column) != SQLITE_NULL else { return nil }
        let pointer = sqlite3_column_blob(stmt, column)
        let count = Int(sqlite3_column_bytes(stmt, column))
        guard let pointer, count > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
