@testable import EmbeddedStore
import EventModel
import Foundation
import GRDB
import XCTest

/// Correlation ids stored once, in `span_correlations`, and referenced from `span_rows` by a short BLOB:
/// the encoding (also read by SQL alone, for the `spans` view), what a row holds, and stores written
/// before references (ids as text in every row), read as they are and moved when opened for writing.
final class SpanCorrelationRefsTests: StoreTestCase {
    let uuid = "6f1c2a9e-3b7d-4e58-9a0c-1d2e3f4a5b6c"

    func span(_ n: Int, start: UInt64, conversation: String?) -> Span {
        Span(traceID: String(format: "%032x", n), spanID: String(format: "%016x", n), service: "orders", name: "publish",
             kind: .producer, startUnixNano: start, endUnixNano: start + 10,
             attributes: [SpanAttribute("messaging.system", .string("kafka"))]
                + (conversation.map { [SpanAttribute("messaging.message.conversation_id", .string($0))] } ?? []))
    }

    func testAReferenceIsTheShortestBigEndianIDAndSQLAloneDecodesIt() throws {
        let ids: [Int64] = [1, 127, 128, 255, 256, 65_535, 65_536, 16_777_215, 16_777_216, 1 << 40, .max]
        let lengths = [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 8]
        for (id, length) in zip(ids, lengths) {
            let bytes = SpanCorrelationRefs.encode(id)
            XCTAssertEqual(bytes.count, length, "id \(id)")
            XCTAssertEqual(SpanCorrelationRefs.decode(bytes), id)
        }
        XCTAssertNil(SpanCorrelationRefs.decode([UInt8]()))
        XCTAssertNil(SpanCorrelationRefs.decode([UInt8](repeating: 1, count: 9)))
        // The view's expression, evaluated by Python's own SQLite (no evtop function registered).
        let decoded = try python("""
            import sqlite3, sys
            db = sqlite3.connect(':memory:')
            for h in sys.argv[2:]:
                print(db.execute('SELECT ' + sys.argv[1] + ' FROM (SELECT ? AS r)', (bytes.fromhex(h),)).fetchone()[0])
            """, [SpanCorrelationRefs.decodeSQL("r")] + ids.map { SpanCorrelationRefs.encode($0).map { String(format: "%02x", $0) }.joined() })
        XCTAssertEqual(decoded.split(separator: "\n").map(String.init), ids.map(String.init))
    }

    func testARowCarriesAReferenceAndTheIDIsStoredOnce() async throws {
        let store = try SQLiteLog(path: path())
        let spans = [span(1, start: 100, conversation: uuid), span(2, start: 200, conversation: uuid),
                     span(3, start: 300, conversation: nil), span(4, start: 400, conversation: uuid)]
        try await store.insertSpans(spans)
        let (rows, summaries, viewed) = try await store.file.read { db in
            (try Row.fetchAll(db, sql: "SELECT typeof(correlation_id), length(correlation_id) FROM span_rows ORDER BY start_key"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM span_correlations") ?? -1,
             try String?.fetchAll(db, sql: "SELECT correlation_id FROM spans ORDER BY start_ns"))
        }
        XCTAssertEqual(rows.map { $0[0] as String }, ["blob", "blob", "null", "blob"])
        XCTAssertEqual(rows.map { $0[1] as Int? }, [1, 1, nil, 1], "one byte where the UUID took 36, in the row and in its index entry")
        XCTAssertEqual(summaries, 1)
        XCTAssertEqual(viewed, [uuid, uuid, nil, uuid], "the spans view reads the text")
        // Spans come back whole, their correlation attribute included.
        let saga = try await store.spans(correlationID: uuid, limit: 10)
        XCTAssertEqual(saga, [spans[0], spans[1], spans[3]])
        let trace = try await store.spans(traceID: spans[0].traceID)
        XCTAssertEqual(trace, [spans[0]])

        // Once no span carries it, its row goes; spans that carry it later get a new id, never the old one.
        try await store.pruneSpans(olderThanUnixNano: 1_000, maxSpans: 100)
        var left = try await store.file.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM span_correlations") }
        XCTAssertEqual(left, 0)
        try await store.insertSpans([span(5, start: 2_000, conversation: uuid)])
        let reference = try await store.file.read { db in try Data.fetchOne(db, sql: "SELECT correlation_id FROM span_rows") }
        XCTAssertEqual(reference.flatMap { SpanCorrelationRefs.decode([UInt8]($0)) }, 2)
        let again = try await store.spans(correlationID: uuid, limit: 10)
        XCTAssertEqual(again.map(\.spanID), [span(5, start: 0, conversation: nil).spanID])
        left = try await store.file.read { db in try Int.fetchOne(db, sql: "SELECT spans FROM span_correlations") }
        XCTAssertEqual(left, 1)
    }

    /// Turns a store of this layout into one an evtop before references wrote: ids as text in every row,
    /// `span_correlations` keyed by the text (no `id`), and the view that read `correlation_id` as it is.
    func makeEarlierStore(_ p: String, _ spans: [Span]) async throws {
        do {
            let store = try SQLiteLog(path: p)
            try await store.insertSpans(spans)
        }
        try python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            texts = dict(db.execute('SELECT id, correlation_id FROM span_correlations'))
            for key, ref in db.execute('SELECT start_key, correlation_id FROM span_rows WHERE correlation_id IS NOT NULL').fetchall():
                db.execute('UPDATE span_rows SET correlation_id = ? WHERE start_key = ?', (texts[int.from_bytes(ref, 'big')], key))
            db.executescript('''
                DROP VIEW spans;
                CREATE TABLE earlier(correlation_id TEXT PRIMARY KEY, last_start_ns INTEGER NOT NULL, spans INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO earlier SELECT correlation_id, last_start_ns, spans FROM span_correlations;
                DROP TABLE span_correlations;
                ALTER TABLE earlier RENAME TO span_correlations;
                CREATE INDEX span_correlations_by_last ON span_correlations(last_start_ns, correlation_id);
                CREATE VIEW spans AS SELECT start_key - start_shift AS start_ns, correlation_id FROM span_rows;
                UPDATE evtop_meta SET value = '1' WHERE key = 'schema_version';
                PRAGMA user_version = 1;
            ''')
            db.commit()
            """, [p])
    }

    /// `schema_version` in `evtop_meta` and SQLite's `user_version`.
    func version(_ store: SQLiteLog) async throws -> String {
        try await store.file.read { db in
            "\(try String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = 'schema_version'") ?? "none") "
                + "\(try Int.fetchOne(db, sql: "PRAGMA user_version") ?? -1)"
        }
    }

    func testAStoreWrittenBeforeReferencesIsReadThenMovedAndItsTextRowsStillCount() async throws {
        let p = path()
        let a = span(1, start: 100, conversation: "ord-1"), b = span(2, start: 200, conversation: "ord-1")
        let c = span(3, start: 300, conversation: "ord-2"), d = span(4, start: 400, conversation: "ord-1")
        try await makeEarlierStore(p, [a, b, c])

        // Read-only: as it is (the schema check lets the missing `id` through; nothing is written).
        let readOnly = try SQLiteLog(path: p, mode: .readOnly)
        var saga = try await readOnly.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [a, b])
        var list = try await readOnly.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 300, spans: 1),
                              SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 200, spans: 2)])

        var stored = try await version(readOnly)
        XCTAssertEqual(stored, "1 1", "a read-only open changes nothing")

        // Read-write: the summary gets its ids; the rows keep their text; new rows carry references; the
        // store is schema 2 (an older evtop refuses it rather than read a reference as text).
        let writable = try SQLiteLog(path: p)
        stored = try await version(writable)
        XCTAssertEqual(stored, "2 2")
        try await writable.insertSpans([d])
        let kinds = try await writable.file.read { db in
            try String.fetchAll(db, sql: "SELECT typeof(correlation_id) FROM span_rows ORDER BY start_key")
        }
        XCTAssertEqual(kinds, ["text", "text", "text", "blob"])
        saga = try await writable.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [a, b, d])
        list = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 400, spans: 3),
                              SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 300, spans: 1)])
        let viewed = try await writable.file.read { db in
            try String?.fetchAll(db, sql: "SELECT correlation_id FROM spans ORDER BY start_ns")
        }
        XCTAssertEqual(viewed, ["ord-1", "ord-1", "ord-2", "ord-1"], "the view is replaced, and reads both kinds of row")
        // Pruning counts text rows and references down alike.
        try await writable.pruneSpans(olderThanUnixNano: 0, maxSpans: 1)
        list = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 400, spans: 1)])
        saga = try await writable.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [d])
    }

    /// A count gone wrong (an older evtop, a hand edit) must never leave rows naming a summary row that is
    /// gone, and a row that does anyway is read without its correlation id: pruning goes on.
    func testARowNamingAGoneSummaryIsStillReadAndPrunedAndNoneIsDroppedWhileNamed() async throws {
        let p = path()
        let store = try SQLiteLog(path: p)
        let a = span(1, start: 100, conversation: "ord-1"), b = span(2, start: 200, conversation: "ord-1")
        try await store.insertSpans([a, b])
        // The summary says one span where two carry the id: pruning the first takes it to 0, but the
        // second still names it, so it stays.
        try await store.file.write { db in try db.execute(sql: "UPDATE span_correlations SET spans = 1") }
        try await store.pruneSpans(olderThanUnixNano: 150, maxSpans: 100)
        var saga = try await store.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [b])
        // Gone by hand: the span reads without the attribute that stood for it, and pruning deletes it.
        try await store.file.write { db in try db.execute(sql: "DELETE FROM span_correlations") }
        let trace = try await store.spans(traceID: b.traceID)
        XCTAssertEqual(trace.first?.attributes, [SpanAttribute("messaging.system", .string("kafka"))])
        XCTAssertNil(trace.first?.correlationID)
        let pruned = try await store.pruneSpans(olderThanUnixNano: 1_000, maxSpans: 100)
        XCTAssertEqual(pruned, 1)
        saga = try await store.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [])
    }
}
