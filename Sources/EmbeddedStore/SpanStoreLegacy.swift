import EventModel
import Foundation
import GRDB

/// The span layout before `span_rows` (evtop stores written until issue 11): `spans` with text ids and an
/// index per searched column, `span_links`, and triggers keeping `span_correlations` in step.
///
/// A store opened for writing is moved to the compact layout when opened (``migrateLegacySpans(_:)``);
/// one opened read-only cannot be, so it is read here as it is.
extension SQLiteLog {
    /// The legacy tables, as the previous layout created them (tests build legacy stores from it).
    static let legacySpanSchemaSQL = """
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
        """

    private static let legacyColumns = """
        trace_id, span_id, parent_span_id, service, name, kind, start_ns, end_ns, status_code, status_message, detail
        """

    /// Spans read, newest first, to list correlation IDs in a store opened read-only without
    /// `span_correlations` (it cannot be added without writing).
    static let spanCorrelationFallbackScan = 20_000

    /// Whether the legacy `spans` table is there.
    static func hasLegacySpans(_ db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('spans', 'span_links')") == 2
    }

    /// Moves the spans of the legacy tables into `span_rows` and drops the legacy tables (their triggers go
    /// with them), then rebuilds the correlation summary and the count from what was moved. Runs inside
    /// the opening write transaction, so a store is never half moved. Returns how many spans moved.
    @discardableResult
    static func migrateLegacySpans(_ db: Database, path: String) throws -> Int {
        guard try hasLegacySpans(db) else { return 0 }
        let strings = SpanStrings()
        var pending = SpanStrings.Pending()
        var moved = 0
        var after: Int64 = .min
        // By rowid, in chunks: memory stays bounded however many spans the old store holds.
        let chunk = try db.makeStatement(sql: "SELECT \(legacyColumns), rowid FROM spans WHERE rowid > ? ORDER BY rowid LIMIT 5000")
        while true {
            let rows = try Row.fetchAll(chunk, arguments: [after])
            guard let last = rows.last else { break }
            after = try last.value(at: 11, of: path)
            let spans = try rows.map { row in try legacyDecode(row, path: path) }
            moved += try writeSpanRows(spans, db, strings: strings, pending: &pending, path: path, summarise: false)
        }
        try db.execute(sql: "DROP TABLE spans; DROP TABLE span_links;")
        try SpanCorrelationRefs.recount(db)
        try db.execute(sql: "UPDATE span_count SET n = (SELECT COUNT(*) FROM span_rows)")
        return moved
    }

    // MARK: - Reading a legacy store opened read-only

    func legacySpans(correlationID id: String, limit: Int, _ db: Database) throws -> [Span] {
        struct Key: Hashable { var trace: String; var span: String }
        var found = Set<Key>()
        var frontier: [Key] = []
        let seeds = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT trace_id, span_id FROM spans WHERE correlation_id = ? ORDER BY start_ns LIMIT ?
            """), arguments: [id, limit])
        while let row = try seeds.next() {
            let key = Key(trace: try column(row, 0), span: try column(row, 1))
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
                        let k = Key(trace: try column(row, 0), span: try column(row, 1))
                        if found.insert(k).inserted { next.append(k) }
                    }
                }
            }
            frontier = next
        }
        let load = try db.cachedStatement(sql: "SELECT \(Self.legacyColumns) FROM spans WHERE trace_id = ? AND span_id = ?")
        var result: [Span] = []
        result.reserveCapacity(found.count)
        for key in found {
            if let row = try Row.fetchOne(load, arguments: [key.trace, key.span]) {
                result.append(try Self.legacyDecode(row, path: path))
            }
        }
        result.sort { ($0.startUnixNano, $0.traceID, $0.spanID) < ($1.startUnixNano, $1.traceID, $1.spanID) }
        return Array(result.prefix(limit))
    }

    func legacySpans(traceID: String, _ db: Database) throws -> [Span] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT \(Self.legacyColumns) FROM spans WHERE trace_id = ? ORDER BY start_ns, span_id
            """), arguments: [traceID])
        var result: [Span] = []
        while let row = try rows.next() { result.append(try Self.legacyDecode(row, path: path)) }
        return result
    }

    /// The newest correlation ids of a store without `span_correlations` (opened read-only, so it cannot be
    /// added), from its newest ``spanCorrelationFallbackScan`` spans.
    func scannedCorrelations(limit: Int, layout: SpanLayout, _ db: Database) throws -> [SpanCorrelationSummary] {
        var out: [SpanCorrelationSummary] = []
        var seen: [String: Int] = [:]
        let sql = layout == .legacy
            ? "SELECT correlation_id, start_ns FROM spans INDEXED BY spans_by_start ORDER BY start_ns DESC LIMIT ?"
            : "SELECT correlation_id, start_key - start_shift FROM span_rows ORDER BY start_key DESC LIMIT ?"
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: [Self.spanCorrelationFallbackScan])
        while let row = try rows.next() {
            // Only text: a reference (``SpanCorrelationRefs``) needs the summary this store lacks.
            guard case .string(let id) = (row[0] as DatabaseValue).storage else { continue }
            if let i = seen[id] { out[i].spans += 1; continue }
            guard out.count < limit else { continue }
            let start: Int64 = try column(row, 1)
            seen[id] = out.count
            out.append(SpanCorrelationSummary(correlationID: id, lastStartUnixNano: UInt64(max(0, start)), spans: 1))
        }
        return out
    }

    static func legacyDecode(_ row: Row, path: String) throws -> Span {
        func column<T: DatabaseValueConvertible>(_ i: Int) throws -> T { try row.value(at: i, of: path) }
        let kindRaw: Int = try column(5), statusRaw: Int = try column(8)
        let start: Int64 = try column(6), end: Int64 = try column(7)
        let detailBytes: [UInt8] = Array(try column(10) as Data)
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
        return Span(traceID: try column(0), spanID: try column(1), parentSpanID: try column(2),
                    service: try column(3), name: try column(4), kind: kind,
                    startUnixNano: UInt64(start), endUnixNano: UInt64(end),
                    status: SpanStatus(code: code, message: try column(9)),
                    attributes: detail.attributes, events: detail.events, links: detail.links)
    }
}
