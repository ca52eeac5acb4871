import EventModel
import Foundation
import GRDB
import GRDBSQLite

/// Span storage in the embedded store, compact layout: `span_rows`, `span_strings`, `span_link_targets`,
/// `span_correlations` and `span_count`.
///
/// Sized for a receiver at broker speed (issue 11): a typical messaging span takes about 100 bytes
/// with its index entries, where the layout before took ~370 (``legacySpanSchemaSQL``):
/// - `span_rows` is keyed by the span's start time in nanoseconds (`start_key`, made unique by moving a
///   colliding span a nanosecond on and keeping the move in `start_shift`): rows are appended in time
///   order, pages fill completely, retention deletes a range from the front, and no index on time is needed.
/// - Ids are integers (W3C hex ids, 8 bytes per half; other text as itself, ``SpanIDs``); services, names,
///   attribute keys and repeated values are ids of `span_strings` (``SpanStrings``); attributes, events
///   and links are one format-2 detail (``SpanDetailCodec/encodeCompact(_:correlationID:intern:)``).
/// - Two secondary indexes, what the product's queries use: by trace (`trace_lo >> 32`, 4 bytes of the
///   id's random half: lookups by trace id, children, and the duplicate check; the few other traces that
///   share them are filtered out by the row, and the duplicate check, which runs on every write, reads a
///   bounded number of them before it goes by start time instead) and by correlation id. Links are indexed in
///   `span_link_targets` (by the same 4 bytes of the linked trace) only when they point somewhere else than
///   the span's own parent (that one is found as a child already). Queries spell the trace condition as
///   `trace_lo >> 32 = ?1 >> 32 AND +trace_lo = ?1`: without the `+`, SQLite substitutes the constant into
///   `trace_lo >> 32` and no longer matches the index expression.
/// - `span_correlations` (the sagas list) and `span_count` are kept by the writer, once per distinct
///   correlation id per transaction, not by triggers on every row.
///
/// Tables are created with `IF NOT EXISTS` when a store is opened read-write (stores written before spans
/// existed simply get them); the legacy layout is moved over then (``migrateLegacySpans(_:path:)``).
extension SQLiteLog: TraceStore, SpanRetention, SpanCorrelationListing {
    static let spanSchemaSQL = """
        CREATE TABLE IF NOT EXISTS span_strings(
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS span_rows(
            start_key INTEGER PRIMARY KEY,
            start_shift INTEGER NOT NULL,
            trace_hi NOT NULL,
            trace_lo INTEGER NOT NULL,
            span_id NOT NULL,
            parent_span_id,
            service NOT NULL,
            name NOT NULL,
            kind INTEGER NOT NULL,
            duration_ns INTEGER NOT NULL,
            status_code INTEGER NOT NULL,
            status_message TEXT,
            correlation_id TEXT,
            detail BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS span_rows_by_trace ON span_rows(trace_lo >> 32);
        CREATE INDEX IF NOT EXISTS span_rows_by_correlation ON span_rows(correlation_id) WHERE correlation_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS span_link_targets(
            linked_lo INTEGER NOT NULL,
            start_key INTEGER NOT NULL,
            PRIMARY KEY(linked_lo, start_key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS span_count(n INTEGER NOT NULL);
        INSERT INTO span_count(n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM span_count);
        """

    /// One row per correlation ID that spans carry, with its newest span start and span count: the sagas
    /// list reads the newest `limit` through `span_correlations_by_last` (O(limit), whatever the number of
    /// spans). Kept by the span writer and pruning (``writeSpanRows(_:_:strings:pending:path:summarise:)``).
    /// Its `id` is what `span_rows` stores for the correlation id (``SpanCorrelationRefs``).
    static let spanCorrelationSQL = spanCorrelationTableSQL(name: "span_correlations") + """
        ;
        CREATE INDEX IF NOT EXISTS span_correlations_by_last ON span_correlations(last_start_ns, correlation_id);
        """

    /// The summary table, under `name` (another while an earlier layout is moved over).
    static func spanCorrelationTableSQL(name: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(name)(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            correlation_id TEXT NOT NULL UNIQUE,
            last_start_ns INTEGER NOT NULL,
            spans INTEGER NOT NULL
        )
        """
    }

    /// `spans`, a read-only view of `span_rows` in the legacy layout's columns (ids as hex, strings
    /// resolved, start and end in nanoseconds; `detail` is format 2): for scripts and `sqlite3` sessions
    /// that read the store with SQL. Created where no `spans` table is left (after a legacy store is moved).
    static let spanViewSQL = """
        CREATE VIEW IF NOT EXISTS spans AS SELECT
            CASE typeof(trace_hi) WHEN 'integer' THEN printf('%016x%016x', trace_hi, trace_lo) ELSE trace_hi END AS trace_id,
            CASE typeof(span_id) WHEN 'integer' THEN printf('%016x', span_id) ELSE span_id END AS span_id,
            CASE typeof(parent_span_id) WHEN 'integer' THEN printf('%016x', parent_span_id) ELSE parent_span_id END AS parent_span_id,
            CASE typeof(service) WHEN 'integer' THEN (SELECT text FROM span_strings WHERE id = service) ELSE service END AS service,
            CASE typeof(name) WHEN 'integer' THEN (SELECT text FROM span_strings WHERE id = name) ELSE name END AS name,
            kind, start_key - start_shift AS start_ns, start_key - start_shift + duration_ns AS end_ns,
            status_code, coalesce(status_message, '') AS status_message,
            CASE typeof(correlation_id) WHEN 'blob' THEN (SELECT c.correlation_id FROM span_correlations c
                WHERE c.id = \(SpanCorrelationRefs.decodeSQL("span_rows.correlation_id"))) ELSE correlation_id END AS correlation_id,
            detail
        FROM span_rows;
        """

    /// How many hops (links into, or children of, already found spans) `spans(correlationID:)` follows.
    static let correlationHops = 4

    /// Pages the writer connection caches (`PRAGMA cache_size`, in KiB when negative): the trace index of
    /// a store at its default cap (2M spans) fits, so inserts at random trace ids rarely read the file.
    static let spanWriterCacheKiB = 64 * 1024

    /// Creates the span tables and indexes when missing, and moves a legacy layout over. Runs inside the
    /// opening write transaction, on the writer connection.
    static func ensureSpanTables(_ db: Database, path: String) throws {
        try db.execute(sql: "PRAGMA cache_size = -\(spanWriterCacheKiB)")
        try db.execute(sql: spanSchemaSQL)
        let summarised = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'span_correlations'") == 1
        try SpanCorrelationRefs.moveEarlierSummary(db)
        try db.execute(sql: spanCorrelationSQL)
        if try hasLegacySpans(db) {
            // Also when both layouts are there (an older evtop wrote into a store already moved): the
            // move rebuilds the summary from `span_rows` alone.
            try migrateLegacySpans(db, path: path)
        } else if !summarised {
            // Rows written before the summary existed carry their ids as text.
            try db.execute(sql: """
                INSERT OR IGNORE INTO span_correlations(correlation_id, last_start_ns, spans)
                SELECT correlation_id, max(start_key - start_shift), count(*) FROM span_rows WHERE typeof(correlation_id) = 'text' GROUP BY correlation_id
                """)
        }
        if try !hasLegacySpans(db) {
            // The view of a store written before references reads `correlation_id` as it is: replaced.
            let view = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'spans'")
            if let view, !view.contains("span_correlations") { try db.execute(sql: "DROP VIEW spans") }
            try db.execute(sql: spanViewSQL)
        }
    }

    /// Which span tables a store has.
    enum SpanLayout { case none, compact, legacy }

    static func spanLayout(_ db: Database) throws -> SpanLayout {
        let names = Set(try String.fetchAll(db.cachedStatement(sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('span_rows', 'span_strings', 'span_link_targets', 'span_count', 'spans', 'span_links')
            """)))
        if names.isSuperset(of: ["span_rows", "span_strings", "span_link_targets", "span_count"]) { return .compact }
        if names.isSuperset(of: ["spans", "span_links"]) { return .legacy }
        return .none
    }

    static let rowColumns = """
        start_key, start_shift, trace_hi, trace_lo, span_id, parent_span_id, service, name, kind, duration_ns, \
        status_code, status_message, correlation_id, detail
        """

    // MARK: - Writing

    /// Stores spans in one transaction; a span already stored under the same trace and span id is replaced
    /// (so is an earlier one of the same batch).
    @discardableResult
    public func insertSpans(_ spans: [Span]) async throws -> Int {
        try checkWritable()
        if spans.isEmpty { return 0 }
        let strings = spanStrings
        let (count, pending) = try await file.write { db in
            var pending = SpanStrings.Pending()
            let n = try Self.writeSpanRows(spans, db, strings: strings, pending: &pending, path: self.path)
            return (n, pending)
        }
        strings.commit(pending)
        return count
    }

    /// Writes `spans` into `span_rows` (the caller's transaction): duplicates within the batch and
    /// against the store are resolved first (the last one wins), then each correlation id's summary is
    /// counted up once and gives the reference its rows carry (`summarise` false: references only, the
    /// caller recounts), then rows go in by start time, then the count. Returns how many spans were given
    /// (duplicates included, as the receiver counts them). New `span_strings` entries are in `pending`
    /// until the caller commits.
    static func writeSpanRows(_ spans: [Span], _ db: Database, strings: SpanStrings, pending: inout SpanStrings.Pending,
                              path: String, summarise: Bool = true) throws -> Int {
        try strings.loadIfNeeded(db)
        struct Key: Hashable { var trace: String; var span: String }
        // 1. Within the batch: the last occurrence of an id wins (an exporter retrying inside one batch).
        var batch: [(span: Span, trace: SpanIDs.Trace, spanID: SpanIDs.Stored)] = []
        batch.reserveCapacity(spans.count)
        var seen: [Key: Int] = [:]
        seen.reserveCapacity(spans.count)
        for span in spans {
            let key = Key(trace: span.traceID, span: span.spanID)
            if let i = seen[key] {
                batch[i].span = span
            } else {
                seen[key] = batch.count
                batch.append((span, SpanIDs.trace(span.traceID), SpanIDs.span(span.spanID)))
            }
        }

        // 2. Against the store: one indexed probe per distinct trace of the batch (a trace's spans usually
        // come together); the rows of spans sent again are removed before the new ones go in.
        var byTrace: [Int64: [Int]] = [:]
        for (i, item) in batch.enumerated() { byTrace[item.trace.lo, default: []].append(i) }
        // Every row under the 4 indexed bytes comes back (the rest of the id is compared here), so that what
        // the probe reads is counted, and capped, below.
        let probe = try db.cachedStatement(sql: "SELECT start_key, trace_hi, span_id, trace_lo FROM span_rows WHERE trace_lo >> 32 = ?1 >> 32")
        var replaced: [Int64] = []
        // Trace ids whose 4 indexed bytes many stored spans share (a client counting its trace ids up from 1)
        // would make this probe read all of those spans for every request: past `probeCap` rows, the trace's
        // spans of the batch are looked for by their start instead (a span sent again has the same start).
        let nearStart = try db.cachedStatement(sql: """
            SELECT start_key, trace_hi, trace_lo, span_id FROM span_rows WHERE start_key >= ?1 AND start_key < ?1 + \(startProbeWindow)
            """)
        for (lo, members) in byTrace {
            let rows = try Row.fetchCursor(probe, arguments: [lo])
            var found: [Int64] = []
            var read = 0
            let probeCap = 4 * members.count + 256
            while read < probeCap, let row = try rows.next() {
                read += 1
                let hi: DatabaseValue = row[1], spanID: DatabaseValue = row[2], rowLo: Int64 = row[3]
                if rowLo == lo, members.contains(where: { batch[$0].trace.hi.databaseValue == hi && batch[$0].spanID.databaseValue == spanID }) {
                    found.append(row[0])
                }
            }
            guard read == probeCap else {
                replaced += found
                continue
            }
            for i in members {
                let item = batch[i]
                let start = Int64(clamping: item.span.startUnixNano)
                let near = try Row.fetchCursor(nearStart, arguments: [start])
                while let row = try near.next() {
                    let hi: DatabaseValue = row[1], rowLo: Int64 = row[2], spanID: DatabaseValue = row[3]
                    if rowLo == lo, hi == item.trace.hi.databaseValue, spanID == item.spanID.databaseValue {
                        replaced.append(row[0])
                    }
                }
            }
        }
        if !replaced.isEmpty {
            let load = try db.cachedStatement(sql: "SELECT \(rowColumns) FROM span_rows WHERE start_key = ?")
            let delete = try db.cachedStatement(sql: "DELETE FROM span_rows WHERE start_key = ?")
            var gone: [GoneRow] = []
            for key in replaced {
                guard let row = try Row.fetchOne(load, arguments: [key]) else { continue }
                let decoded = try decodeRow(row, db, strings: strings, path: path)
                gone.append(GoneRow(key: key, linkTargets: linkTargets(decoded.span), correlationID: decoded.correlationID))
                try delete.execute(arguments: [key])
            }
            try forget(gone, db, counting: summarise)
        }

        // 3. The rows, by start time: keys mostly grow, so the table is appended to.
        batch.sort { $0.span.startUnixNano < $1.span.startUnixNano }
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO span_rows(\(rowColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let addTarget = try db.cachedStatement(sql: "INSERT OR IGNORE INTO span_link_targets(linked_lo, start_key) VALUES (?1 >> 32, ?2)")
        let stmt = insert.sqliteStatement
        let connection = db.sqliteConnection
        var nextFree: [Int64: Int64] = [:]
        // Each correlation id's reference, its summary counted up first (``SpanCorrelationRefs``).
        var gains: [String: (last: Int64, count: Int)] = [:]
        for item in batch {
            guard let correlation = item.span.correlationID else { continue }
            let g = gains[correlation]
            gains[correlation] = (max(g?.last ?? .min, Int64(clamping: item.span.startUnixNano)), (g?.count ?? 0) + 1)
        }
        var references: [String: [UInt8]] = [:]
        references.reserveCapacity(gains.count)
        for (correlation, g) in gains {
            references[correlation] = try SpanCorrelationRefs.claim(correlation, last: g.last, count: summarise ? g.count : 0, db)
        }
        for item in batch {
            let span = item.span
            let correlation = span.correlationID
            let detail = try SpanDetailCodec.encodeCompact(span, correlationID: correlation) { text, role in
                try strings.intern(text, role, &pending, db)
            }
            let start = Int64(clamping: span.startUnixNano)
            sqlite3_reset(stmt)
            bind(stmt, 3, item.trace.hi)
            sqlite3_bind_int64(stmt, 4, item.trace.lo)
            bind(stmt, 5, item.spanID)
            if let parent = span.parentSpanID { bind(stmt, 6, SpanIDs.span(parent)) } else { sqlite3_bind_null(stmt, 6) }
            if let id = try strings.intern(span.service, .key, &pending, db) { sqlite3_bind_int64(stmt, 7, id) } else { bind(stmt, 7, span.service) }
            if let id = try strings.intern(span.name, .key, &pending, db) { sqlite3_bind_int64(stmt, 8, id) } else { bind(stmt, 8, span.name) }
            sqlite3_bind_int64(stmt, 9, Int64(span.kind.rawValue))
            sqlite3_bind_int64(stmt, 10, Int64(bitPattern: span.endUnixNano &- span.startUnixNano))
            sqlite3_bind_int64(stmt, 11, Int64(span.status.code.rawValue))
            if span.status.message.isEmpty { sqlite3_bind_null(stmt, 12) } else { bind(stmt, 12, span.status.message) }
            if let correlation, let reference = references[correlation] {
                reference.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(stmt, 13, raw.baseAddress, Int32(raw.count), SQLiteColumns.transient)
                }
            } else {
                sqlite3_bind_null(stmt, 13)
            }
            detail.withUnsafeBytes { raw in
                _ = sqlite3_bind_blob(stmt, 14, raw.baseAddress, Int32(raw.count), SQLiteColumns.transient)
            }
            // The start itself, else the next free nanosecond after it (before it at the end of time).
            var key = nextFree[start] ?? start
            var collided = false
            while true {
                sqlite3_bind_int64(stmt, 1, key)
                sqlite3_bind_int64(stmt, 2, key &- start)
                let rc = sqlite3_step(stmt)
                sqlite3_reset(stmt)
                guard rc == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
                }
                if sqlite3_changes(connection) > 0 { break }
                collided = true
                key = nextKey(after: key, start: start)
            }
            // Spans of one batch that share a start (clients with coarse clocks) skip the keys taken already.
            if collided { nextFree[start] = nextKey(after: key, start: start) }
            for lo in linkTargets(span) { try addTarget.execute(arguments: [lo, key]) }
        }
        sqlite3_clear_bindings(stmt)
        try db.cachedStatement(sql: "UPDATE span_count SET n = n + ?").execute(arguments: [batch.count])
        return spans.count
    }

    /// Nanoseconds after its start where the duplicate check looks for a span sent again when its trace
    /// cannot be probed cheaply: spans sharing a start are moved a nanosecond on each, so a span sent again
    /// is found unless more than this many spans began in the same nanosecond.
    static let startProbeWindow = 64

    /// The key tried after `key` for a span that starts at `start`: upwards, then below `start` once the
    /// largest key is taken (only spans clamped to the end of time get there).
    private static func nextKey(after key: Int64, start: Int64) -> Int64 {
        if key >= start { return key < .max ? key + 1 : start &- 1 }
        return key &- 1
    }

    /// The `linked_lo` keys of a span's links that `span_link_targets` indexes: all but a link to the
    /// span's own parent (the children lookup finds that one).
    static func linkTargets(_ span: Span) -> [Int64] {
        guard !span.links.isEmpty else { return [] }
        var out: [Int64] = []
        for l in span.links where !(l.traceID == span.traceID && l.spanID == span.parentSpanID) {
            out.append(SpanIDs.trace(l.traceID).lo)
        }
        return out
    }

    /// What the bookkeeping needs of a deleted row: not its span (pruning goes 5,000 rows at a time, and
    /// their decoded spans came to megabytes held at once).
    struct GoneRow {
        var key: Int64
        var linkTargets: [Int64]
        var correlationID: String?
    }

    /// Bookkeeping for rows just deleted: their link targets, the summary of their correlation ids (count
    /// down; the newest remaining start, read through the correlation index; unless `counting` is false,
    /// when the summary is recounted afterwards), and the span count.
    static func forget(_ gone: [GoneRow], _ db: Database, counting: Bool = true) throws {
        guard !gone.isEmpty else { return }
        let dropTarget = try db.cachedStatement(sql: "DELETE FROM span_link_targets WHERE linked_lo = ?1 >> 32 AND start_key = ?2")
        var losses: [String: Int] = [:]
        for g in gone {
            for lo in g.linkTargets { try dropTarget.execute(arguments: [lo, g.key]) }
            if counting, let id = g.correlationID { losses[id, default: 0] += 1 }
        }
        // The rows left carry the id as a reference, or as text when an earlier evtop wrote them.
        let lose = try db.cachedStatement(sql: """
            UPDATE span_correlations SET spans = spans - ?2,
                last_start_ns = coalesce((SELECT start_key - start_shift FROM span_rows WHERE start_key = (SELECT max(newest) FROM (
                    SELECT max(start_key) AS newest FROM span_rows WHERE correlation_id = ?1
                    UNION ALL SELECT max(start_key) FROM span_rows WHERE correlation_id = ?3))), last_start_ns)
            WHERE correlation_id = ?1
            """)
        // Never while a row still names it (a count gone wrong): its references would point at nothing.
        let drop = try db.cachedStatement(sql: """
            DELETE FROM span_correlations WHERE correlation_id = ?1 AND spans <= 0
                AND NOT EXISTS (SELECT 1 FROM span_rows WHERE correlation_id = ?1)
                AND NOT EXISTS (SELECT 1 FROM span_rows WHERE correlation_id = ?2)
            """)
        let used = losses.isEmpty ? false : try SpanCorrelationRefs.areUsed(db)
        for (id, n) in losses {
            let reference = try SpanCorrelationRefs.reference(to: id, db, used: used).map { Data($0) }
            try lose.execute(arguments: [id, n, reference])
            try drop.execute(arguments: [id, reference])
        }
        try db.cachedStatement(sql: "UPDATE span_count SET n = max(0, n - ?)").execute(arguments: [gone.count])
    }

    // MARK: - Reading

    /// Spans whose correlation ID is `id`, plus spans that link to them or are their children (followed up
    /// to ``correlationHops`` hops), by start time; at most `limit`.
    public func spans(correlationID id: String, limit: Int) async throws -> [Span] {
        guard limit > 0 else { return [] }
        let strings = spanStrings
        return try await file.read { db in
            switch try Self.spanLayout(db) {
            case .none: return []
            case .legacy: return try self.legacySpans(correlationID: id, limit: limit, db)
            case .compact: break
            }
            var found: [Int64: Span] = [:]
            var frontier: [Span] = []
            // Rows carry the id as a reference, or as text when an earlier evtop wrote them: the first `limit`
            // of each, in the index's order (one `IN` would sort all of an id's spans, however many).
            let reference = try SpanCorrelationRefs.reference(to: id, db).map { Data($0) }
            let seedRows = try db.cachedStatement(sql: """
                SELECT \(Self.rowColumns) FROM span_rows WHERE correlation_id = ? ORDER BY start_key LIMIT ?
                """)
            var seeds: [(key: Int64, span: Span)] = []
            for value in [reference?.databaseValue, id.databaseValue].compactMap({ $0 }) {
                let rows = try Row.fetchCursor(seedRows, arguments: [value, limit])
                while let row = try rows.next() {
                    seeds.append((try self.column(row, 0), try Self.decodeRow(row, db, strings: strings, path: self.path).span))
                }
            }
            seeds.sort { $0.key < $1.key }
            for (key, span) in seeds.prefix(limit) where found[key] == nil {
                found[key] = span
                frontier.append(span)
            }
            let linkers = try db.cachedStatement(sql: """
                SELECT \(Self.rowColumns) FROM span_rows WHERE start_key IN (SELECT start_key FROM span_link_targets WHERE linked_lo = ?1 >> 32)
                """)
            let children = try db.cachedStatement(sql: """
                SELECT \(Self.rowColumns) FROM span_rows WHERE trace_lo >> 32 = ?1 >> 32 AND +trace_lo = ?1 AND trace_hi = ?2 AND parent_span_id = ?3
                """)
            var hop = 0
            while !frontier.isEmpty && hop < Self.correlationHops && found.count < limit {
                hop += 1
                var next: [Span] = []
                for target in frontier {
                    let trace = SpanIDs.trace(target.traceID)
                    let candidates = [
                        (linkers, StatementArguments([trace.lo]), true),
                        (children, StatementArguments([trace.lo, trace.hi.databaseValue, SpanIDs.span(target.spanID).databaseValue]), false),
                    ]
                    for (statement, arguments, checkLink) in candidates {
                        let rows = try Row.fetchCursor(statement, arguments: arguments)
                        while let row = try rows.next(), found.count < limit {
                            let key: Int64 = try self.column(row, 0)
                            guard found[key] == nil else { continue }
                            let span = try Self.decodeRow(row, db, strings: strings, path: self.path).span
                            // `span_link_targets` is keyed by the linked trace only: the link itself is checked.
                            if checkLink && !span.links.contains(where: { $0.traceID == target.traceID && $0.spanID == target.spanID }) {
                                continue
                            }
                            found[key] = span
                            next.append(span)
                        }
                    }
                }
                frontier = next
            }
            var result = Array(found.values)
            result.sort { ($0.startUnixNano, $0.traceID, $0.spanID) < ($1.startUnixNano, $1.traceID, $1.spanID) }
            return Array(result.prefix(limit))
        }
    }

    /// The correlation IDs spans carry, newest span start first (ties by ID, descending), at most `limit`:
    /// an indexed read of `limit` rows of `span_correlations`. A store opened read-only without that table
    /// (a legacy one) is answered from its newest spans instead.
    public func recentSpanCorrelations(limit: Int) async throws -> [SpanCorrelationSummary] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            let layout = try Self.spanLayout(db)
            if layout == .none { return [] }
            let summarised = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'span_correlations'") == 1
            guard summarised else { return try self.scannedCorrelations(limit: limit, layout: layout, db) }
            var out: [SpanCorrelationSummary] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT correlation_id, last_start_ns, spans FROM span_correlations INDEXED BY span_correlations_by_last
                ORDER BY last_start_ns DESC, correlation_id DESC LIMIT ?
                """), arguments: [limit])
            while let row = try rows.next() {
                let last: Int64 = try self.column(row, 1)
                out.append(SpanCorrelationSummary(correlationID: try self.column(row, 0), lastStartUnixNano: UInt64(max(0, last)),
                                                  spans: try self.column(row, 2)))
            }
            return out
        }
    }

    /// All spans of one trace, by start time.
    public func spans(traceID: String) async throws -> [Span] {
        let strings = spanStrings
        return try await file.read { db in
            switch try Self.spanLayout(db) {
            case .none: return []
            case .legacy: return try self.legacySpans(traceID: traceID, db)
            case .compact: break
            }
            let trace = SpanIDs.trace(traceID)
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT \(Self.rowColumns) FROM span_rows WHERE trace_lo >> 32 = ?1 >> 32 AND +trace_lo = ?1 AND trace_hi = ?2
                """), arguments: [trace.lo, trace.hi.databaseValue])
            var result: [Span] = []
            while let row = try rows.next() { result.append(try Self.decodeRow(row, db, strings: strings, path: self.path).span) }
            result.sort { ($0.startUnixNano, $0.spanID) < ($1.startUnixNano, $1.spanID) }
            return result
        }
    }

    /// Number of spans stored (kept in `span_count`: no count over millions of rows).
    public func spanCount() async throws -> Int {
        try await file.read { db in
            switch try Self.spanLayout(db) {
            case .none: return 0
            case .legacy: return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM spans") ?? 0
            case .compact: return try Int.fetchOne(db, sql: "SELECT n FROM span_count") ?? 0
            }
        }
    }

    // MARK: - Retention

    /// Deletes spans that started before `cutoffUnixNano`, then the oldest spans beyond `maxSpans`
    /// (their link targets and summary counts go with them); returns how many spans were deleted.
    ///
    /// The oldest spans are the first keys of `span_rows`: each chunk of ``pruneChunk`` is a range deleted
    /// from the front of the table, in its own short write transaction, so the store's other writers (the
    /// receiver's inserts) never wait long for the write lock, whatever the backlog.
    @discardableResult
    public func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int {
        try checkWritable()
        let cutoff = Int64(clamping: cutoffUnixNano)
        let keep = max(0, maxSpans)
        let chunk = Self.pruneChunk
        let strings = spanStrings
        var deleted = 0
        // Age first: keys are start times (moved by at most a few nanoseconds for colliding starts).
        while true {
            let gone = try await file.write { db in
                try Self.pruneFront(limit: chunk, below: cutoff, db, strings: strings, path: self.path)
            }
            deleted += gone
            if gone < chunk { break }
        }
        while true {
            let gone = try await file.write { db -> Int in
                let excess = (try Int.fetchOne(db, sql: "SELECT n FROM span_count") ?? 0) - keep
                guard excess > 0 else { return 0 }
                return try Self.pruneFront(limit: min(excess, chunk), below: nil, db, strings: strings, path: self.path)
            }
            deleted += gone
            if gone == 0 { break }
        }
        return deleted
    }

    /// Deletes up to `limit` spans from the front of `span_rows` (those with keys below `below`, if given).
    private static func pruneFront(limit: Int, below: Int64?, _ db: Database, strings: SpanStrings, path: String) throws -> Int {
        // Row by row: only what the bookkeeping needs is kept.
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT \(rowColumns) FROM span_rows WHERE start_key < ? ORDER BY start_key LIMIT ?
            """), arguments: [below ?? .max, limit])
        var gone: [GoneRow] = []
        while let row = try rows.next() {
            let decoded = try decodeRow(row, db, strings: strings, path: path)
            gone.append(GoneRow(key: try row.value(at: 0, of: path), linkTargets: linkTargets(decoded.span), correlationID: decoded.correlationID))
        }
        guard let first = gone.first?.key, let last = gone.last?.key else { return 0 }
        // The rows read are exactly the keys of this range: they were the first ones.
        try db.cachedStatement(sql: "DELETE FROM span_rows WHERE start_key BETWEEN ? AND ?").execute(arguments: [first, last])
        try forget(gone, db)
        return gone.count
    }

    /// Spans deleted per write transaction when pruning.
    static let pruneChunk = 5_000

    // MARK: - Rows

    /// The span of a `span_rows` row, and the correlation id its row carries (as text or a reference).
    static func decodeRow(_ row: Row, _ db: Database, strings: SpanStrings, path: String) throws -> (span: Span, correlationID: String?) {
        func column<T: DatabaseValueConvertible>(_ i: Int) throws -> T { try row.value(at: i, of: path) }
        func corrupt(_ what: String) -> StoreError { StoreError.corrupt(path, "\(what) in the span_rows table") }
        func text(_ i: Int) throws -> String {
            let value: DatabaseValue = row[i]
            switch value.storage {
            case .string(let s): return s
            case .int64(let id):
                do { return try strings.text(id, db) } catch is SpanStrings.Missing { throw corrupt("an unknown string id") }
            default: throw corrupt("an impossible service or name")
            }
        }
        let key: Int64 = try column(0), shift: Int64 = try column(1), lo: Int64 = try column(3)
        let kindRaw: Int = try column(8), statusRaw: Int = try column(10), duration: Int64 = try column(9)
        let (startSigned, overflow) = key.subtractingReportingOverflow(shift)
        guard let kind = SpanKind(rawValue: kindRaw), let code = SpanStatus.Code(rawValue: statusRaw),
              !overflow, startSigned >= 0 else {
            throw corrupt("an impossible span kind, status or time")
        }
        guard let trace = SpanIDs.traceText(hi: row[2], lo: lo), let spanID = SpanIDs.spanText(row[4]) else {
            throw corrupt("an impossible trace or span id")
        }
        let parentValue: DatabaseValue = row[5]
        let parent: String?
        if parentValue.isNull { parent = nil } else {
            guard let p = SpanIDs.spanText(parentValue) else { throw corrupt("an impossible parent span id") }
            parent = p
        }
        let start = UInt64(startSigned)
        let storedCorrelation: DatabaseValue = row[12]
        let correlation: String?
        do { correlation = try SpanCorrelationRefs.text(of: storedCorrelation, db) } catch is SpanCorrelationRefs.Malformed {
            throw corrupt("an impossible correlation id")
        }
        let detailBytes: [UInt8] = Array(try column(13) as Data)
        let detail: (attributes: [SpanAttribute], events: [SpanEvent], links: [SpanLink])
        do {
            detail = try SpanDetailCodec.decodeCompact(
                detailBytes, .init(traceID: trace, parentSpanID: parent, startUnixNano: start, correlationID: correlation,
                                   correlationLost: correlation == nil && !storedCorrelation.isNull),
                text: { try strings.text($0, db) })
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw corrupt("an unreadable span detail (attributes, events, links)")
        }
        let span = Span(traceID: trace, spanID: spanID, parentSpanID: parent, service: try text(6), name: try text(7), kind: kind,
                        startUnixNano: start, endUnixNano: start &+ UInt64(bitPattern: duration),
                        status: SpanStatus(code: code, message: try column(11) ?? ""),
                        attributes: detail.attributes, events: detail.events, links: detail.links)
        return (span, correlation)
    }
}

private func bind(_ stmt: OpaquePointer?, _ index: Int32, _ text: String) {
    SQLiteColumns.bindText(stmt, index, text)
}

private func bind(_ stmt: OpaquePointer?, _ index: Int32, _ id: SpanIDs.Stored) {
    switch id {
    case .bits(let v): sqlite3_bind_int64(stmt, index, v)
    case .text(let s): bind(stmt, index, s)
    }
}
