import EventModel
import Foundation
import GRDB

/// Span storage in the embedded store: the `spans` and `span_links` tables.
///
/// Columns hold what is searched (trace, span, parent, service, times, correlation id); attributes, events
/// and links are kept as one binary document per span (SpanDetailCodec). Links also go to `span_links`, indexed by the linked
/// span, so a consumer span linked to a message's creation span is found from the creation span's
/// correlation ID. Tables are created with `IF NOT EXISTS` when a store is opened read-write; stores
/// written before spans existed simply get them.
extension SQLiteLog: TraceStore, SpanRetention, SpanCorrelationListing {
    static let spanSchemaSQL = """
        CREATE TABLE IF NOT EXISTS spans(
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            service TEXT NOT NULL,
            name TEXT NOT NULL,
            kind INTEGER NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status_code INTEGER NOT NULL,
            status_message TEXT NOT NULL,
            correlation_id TEXT,
            detail BLOB NOT NULL,
            UNIQUE(trace_id, span_id)
        );
        CREATE INDEX IF NOT EXISTS spans_by_correlation ON spans(correlation_id, start_ns) WHERE correlation_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS spans_by_service ON spans(service, start_ns);
        CREATE INDEX IF NOT EXISTS spans_by_start ON spans(start_ns);
        CREATE INDEX IF NOT EXISTS spans_by_parent ON spans(trace_id, parent_span_id) WHERE parent_span_id IS NOT NULL;
        CREATE TABLE IF NOT EXISTS span_links(
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            linked_trace_id TEXT NOT NULL,
            linked_span_id TEXT NOT NULL,
            PRIMARY KEY(trace_id, span_id, linked_trace_id, linked_span_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS span_links_by_target ON span_links(linked_trace_id, linked_span_id);
        CREATE TRIGGER IF NOT EXISTS spans_drop_links AFTER DELETE ON spans BEGIN
            DELETE FROM span_links WHERE trace_id = old.trace_id AND span_id = old.span_id;
        END;
        """

    /// One row per correlation ID that spans carry, with its newest span start: the sagas list reads the
    /// newest `limit` through `span_correlations_by_last` (O(limit), whatever the number of spans), where
    /// walking `spans` by time would read every span of every busy saga. Triggers keep it in step with
    /// `spans` (inserts, the receiver's upserts, pruning); a deleted span's saga gets its newest remaining
    /// start back through `spans_by_correlation`, and goes when its last span goes.
    static let spanCorrelationSQL = """
        CREATE TABLE IF NOT EXISTS span_correlations(
            correlation_id TEXT PRIMARY KEY,
            last_start_ns INTEGER NOT NULL,
            spans INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS span_correlations_by_last ON span_correlations(last_start_ns, correlation_id);
        CREATE TRIGGER IF NOT EXISTS spans_correlation_added AFTER INSERT ON spans WHEN new.correlation_id IS NOT NULL BEGIN
            INSERT INTO span_correlations(correlation_id, last_start_ns, spans) VALUES (new.correlation_id, new.start_ns, 1)
            ON CONFLICT(correlation_id) DO UPDATE SET last_start_ns = max(last_start_ns, excluded.last_start_ns), spans = spans + 1;
        END;
        CREATE TRIGGER IF NOT EXISTS spans_correlation_removed AFTER DELETE ON spans WHEN old.correlation_id IS NOT NULL BEGIN
            UPDATE span_correlations SET spans = spans - 1,
                last_start_ns = coalesce((SELECT max(start_ns) FROM spans WHERE correlation_id = old.correlation_id), last_start_ns)
                WHERE correlation_id = old.correlation_id;
            DELETE FROM span_correlations WHERE correlation_id = old.correlation_id AND spans <= 0;
        END;
        CREATE TRIGGER IF NOT EXISTS spans_correlation_left AFTER UPDATE OF correlation_id, start_ns ON spans
            WHEN old.correlation_id IS NOT NULL BEGIN
            UPDATE span_correlations SET spans = spans - 1,
                last_start_ns = coalesce((SELECT max(start_ns) FROM spans WHERE correlation_id = old.correlation_id), last_start_ns)
                WHERE correlation_id = old.correlation_id;
            DELETE FROM span_correlations WHERE correlation_id = old.correlation_id AND spans <= 0;
        END;
        CREATE TRIGGER IF NOT EXISTS spans_correlation_joined AFTER UPDATE OF correlation_id, start_ns ON spans
            WHEN new.correlation_id IS NOT NULL BEGIN
            INSERT INTO span_correlations(correlation_id, last_start_ns, spans) VALUES (new.correlation_id, new.start_ns, 1)
            ON CONFLICT(correlation_id) DO UPDATE SET last_start_ns = max(last_start_ns, excluded.last_start_ns), spans = spans + 1;
        END;
        """

    /// Spans read, newest first, to list correlation IDs in a store opened read-only that predates
    /// `span_correlations` (it cannot be added without writing).
    static let spanCorrelationFallbackScan = 20_000

    /// How many hops (links into, or children of, already found spans) `spans(correlationID:)` follows.
    static let correlationHops = 4

    /// Creates the span tables and indexes when missing. Runs inside the opening write transaction.
    static func ensureSpanTables(_ db: Database) throws {
        try db.execute(sql: spanSchemaSQL)
        let summarised = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'span_correlations'") == 1
        try db.execute(sql: spanCorrelationSQL)
        if !summarised {
            // A store whose spans were written before the summary existed: summarise them once (one pass
            // over `spans_by_correlation`); the triggers keep it from here.
            try db.execute(sql: """
                INSERT OR IGNORE INTO span_correlations(correlation_id, last_start_ns, spans)
                SELECT correlation_id, max(start_ns), count(*) FROM spans WHERE correlation_id IS NOT NULL GROUP BY correlation_id
                """)
        }
    }

    private static let columns = """
        trace_id, span_id, parent_span_id, service, name, kind, start_ns, end_ns, status_code, status_message, detail
        """

    /// Nanoseconds as SQLite's signed 64-bit integer (times past 2262 are clamped; they still sort last).
    private static func sqlNanos(_ n: UInt64) -> Int64 { n > UInt64(Int64.max) ? Int64.max : Int64(n) }

    /// Stores spans in one transaction; a span already stored under the same trace and span id is replaced.
    @discardableResult
    public func insertSpans(_ spans: [Span]) async throws -> Int {
        try checkWritable()
        if spans.isEmpty { return 0 }
        let rows: [(Span, [UInt8])] = spans.map { span in
            (span, SpanDetailCodec.encode(attributes: span.attributes, events: span.events, links: span.links))
        }
        return try await file.write { db in
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO spans(\(Self.columns), correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(trace_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id,
                    service = excluded.service, name = excluded.name, kind = excluded.kind,
                    start_ns = excluded.start_ns, end_ns = excluded.end_ns, status_code = excluded.status_code,
                    status_message = excluded.status_message, detail = excluded.detail,
                    correlation_id = excluded.correlation_id
                """)
            let dropLinks = try db.cachedStatement(sql: "DELETE FROM span_links WHERE trace_id = ? AND span_id = ?")
            let addLink = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO span_links(trace_id, span_id, linked_trace_id, linked_span_id) VALUES (?, ?, ?, ?)
                """)
            for (span, detail) in rows {
                try upsert.execute(arguments: [
                    span.traceID, span.spanID, span.parentSpanID, span.service, span.name, span.kind.rawValue,
                    Self.sqlNanos(span.startUnixNano), Self.sqlNanos(span.endUnixNano), span.status.code.rawValue,
                    span.status.message, Data(detail), span.correlationID,
                ])
                try dropLinks.execute(arguments: [span.traceID, span.spanID])
                for link in span.links {
                    try addLink.execute(arguments: [span.traceID, span.spanID, link.traceID, link.spanID])
                }
            }
            return rows.count
        }
    }

    /// Spans whose correlation ID is `id`, plus spans that link to them or are their children (followed up
    /// to ``correlationHops`` hops), by start time; at most `limit`.
    public func spans(correlationID id: String, limit: Int) async throws -> [Span] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            guard try Self.hasSpanTables(db) else { return [] }
            struct Key: Hashable { var trace: String; var span: String }
            var found = Set<Key>()
            var frontier: [Key] = []
            let seeds = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT trace_id, span_id FROM spans WHERE correlation_id = ? ORDER BY start_ns LIMIT ?
                """), arguments: [id, limit])
            while let row = try seeds.next() {
                let key = Key(trace: try self.column(row, 0), span: try self.column(row, 1))
                if found.insert(key).inserted { frontier.append(key) }
            }
            let linkedTo = try db.cachedStatement(sql: """
                SELECT trace_id, span_id FROM span_links WHERE linked_trace_id = ? AND linked_span_id = ?
                """)
            let childrenOf = try db.cachedStatement(sql: """
                SELECT trace_id, span_id FROM spans WHERE trace_id = ? AND parent_span_id = ?
                """)
            var hop = 0
            while !frontier.isEmpty && hop < Self.correlationHops && found.count < limit {
                hop += 1
                var next: [Key] = []
                for key in frontier {
                    for statement in [linkedTo, childrenOf] {
                        let rows = try Row.fetchCursor(statement, arguments: [key.trace, key.span])
                        while let row = try rows.next(), found.count < limit {
                            let k = Key(trace: try self.column(row, 0), span: try self.column(row, 1))
                            if found.insert(k).inserted { next.append(k) }
                        }
                    }
                }
                frontier = next
            }
            let load = try db.cachedStatement(sql: "SELECT \(Self.columns) FROM spans WHERE trace_id = ? AND span_id = ?")
            var result: [Span] = []
            result.reserveCapacity(found.count)
            for key in found {
                if let row = try Row.fetchOne(load, arguments: [key.trace, key.span]) {
                    result.append(try self.decodeSpan(row))
                }
            }
            result.sort { ($0.startUnixNano, $0.traceID, $0.spanID) < ($1.startUnixNano, $1.traceID, $1.spanID) }
            return Array(result.prefix(limit))
        }
    }

    /// The correlation IDs spans carry, newest span start first (ties by ID, descending), at most `limit`:
    /// an indexed read of `limit` rows of `span_correlations`. A read-only store that predates that table
    /// is answered from its newest ``spanCorrelationFallbackScan`` spans instead.
    public func recentSpanCorrelations(limit: Int) async throws -> [SpanCorrelationSummary] {
        guard limit > 0 else { return [] }
        return try await file.read { db in
            guard try Self.hasSpanTables(db) else { return [] }
            var out: [SpanCorrelationSummary] = []
            let summarised = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'span_correlations'") == 1
            if summarised {
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
            var seen: [String: Int] = [:]
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT correlation_id, start_ns FROM spans INDEXED BY spans_by_start ORDER BY start_ns DESC LIMIT ?
                """), arguments: [Self.spanCorrelationFallbackScan])
            while let row = try rows.next() {
                guard let id: String = try self.column(row, 0) else { continue }
                if let i = seen[id] { out[i].spans += 1; continue }
                guard out.count < limit else { continue }
                let start: Int64 = try self.column(row, 1)
                seen[id] = out.count
                out.append(SpanCorrelationSummary(correlationID: id, lastStartUnixNano: UInt64(max(0, start)), spans: 1))
            }
            return out
        }
    }

    /// All spans of one trace, by start time.
    public func spans(traceID: String) async throws -> [Span] {
        try await file.read { db in
            guard try Self.hasSpanTables(db) else { return [] }
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT \(Self.columns) FROM spans WHERE trace_id = ? ORDER BY start_ns, span_id
                """), arguments: [traceID])
            var result: [Span] = []
            while let row = try rows.next() { result.append(try self.decodeSpan(row)) }
            return result
        }
    }

    /// Number of spans stored.
    public func spanCount() async throws -> Int {
        try await file.read { db in
            guard try Self.hasSpanTables(db) else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM spans") ?? 0
        }
    }

    /// Deletes spans that started before `cutoffUnixNano`, then the oldest spans beyond `maxSpans`
    /// (their links go with them); returns how many spans were deleted.
    ///
    /// In chunks of ``pruneChunk`` spans, each its own short write transaction, and counting in a read:
    /// the store's other writers (the log, the receiver's inserts) never wait long for the write lock,
    /// whatever the backlog (a cap lowered by a million spans, a store reopened after a day).
    @discardableResult
    public func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int {
        try checkWritable()
        let cutoff = Self.sqlNanos(cutoffUnixNano)
        let keep = max(0, maxSpans)
        let chunk = Self.pruneChunk
        var deleted = 0
        while true {
            let gone = try await file.write { db in
                try db.cachedStatement(sql: "DELETE FROM spans WHERE rowid IN (SELECT rowid FROM spans WHERE start_ns < ? LIMIT ?)")
                    .execute(arguments: [cutoff, chunk])
                return db.changesCount
            }
            deleted += gone
            if gone < chunk { break }
        }
        var excess = try await file.read { db in (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM spans") ?? 0) - keep }
        while excess > 0 {
            let take = min(excess, chunk)
            let gone = try await file.write { db in
                try db.cachedStatement(sql: """
                    DELETE FROM spans WHERE rowid IN (SELECT rowid FROM spans ORDER BY start_ns LIMIT ?)
                    """).execute(arguments: [take])
                return db.changesCount
            }
            deleted += gone
            excess -= take
            if gone < take { break }
        }
        return deleted
    }

    /// Spans deleted per write transaction when pruning.
    static let pruneChunk = 2_000

    /// A store opened read-only may predate the span tables.
    private static func hasSpanTables(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('spans', 'span_links')") == 2
    }

    private func decodeSpan(_ row: Row) throws -> Span {
        let kindRaw: Int = try column(row, 5), statusRaw: Int = try column(row, 8)
        let start: Int64 = try column(row, 6), end: Int64 = try column(row, 7)
        let detailBytes: [UInt8] = Array(try column(row, 10) as Data)
        guard let kind = SpanKind(rawValue: kindRaw), let code = SpanStatus.Code(rawValue: statusRaw),
              start >= 0, end >= 0 else {
            throw StoreError.corrupt(path, "impossible span kind, status or time in the spans table")
        }
        let detail: (attributes: [SpanAttribute], events: [SpanEvent], links: [SpanLink])
        do {
            detail = try SpanDetailCodec.decode(detailBytes)
        } catch {
            throw StoreError.corrupt(path, "unreadable span detail (attributes, events, links)")
        }
        return Span(traceID: try column(row, 0), spanID: try column(row, 1), parentSpanID: try column(row, 2),
                    service: try column(row, 3), name: try column(row, 4), kind: kind,
                    startUnixNano: UInt64(start), endUnixNano: UInt64(end),
                    status: SpanStatus(code: code, message: try column(row, 9)),
                    attributes: detail.attributes, events: detail.events, links: detail.links)
    }
}
