import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// The correlation IDs spans carry, newest first: how a saga known only from spans reaches the sagas list.
final class SpanCorrelationListingTests: StoreTestCase {
    func span(_ trace: String, _ id: String, start: UInt64, conversation: String?) -> Span {
        Span(traceID: String(repeating: trace, count: 32), spanID: String(repeating: id, count: 16), service: "orders",
             name: "op \(id)", kind: .consumer, startUnixNano: start, endUnixNano: start + 10,
             attributes: conversation.map { [SpanAttribute("messaging.message.conversation_id", .string($0))] } ?? [])
    }

    func ids(_ list: [SpanCorrelationSummary]) -> [String] { list.map(\.correlationID) }

    func testNewestFirstBoundedByLimitAndCounted() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans([
            span("a", "1", start: 100, conversation: "ord-1"),
            span("a", "2", start: 900, conversation: "ord-1"),   // ord-1's newest span is the newest of all
            span("b", "3", start: 500, conversation: "ord-2"),
            span("c", "4", start: 700, conversation: nil),       // no conversation: not a saga
            span("d", "5", start: 300, conversation: "ord-3"),
        ])
        let all = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(ids(all), ["ord-1", "ord-2", "ord-3"])
        XCTAssertEqual(all.first, SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 900, spans: 2))
        let two = try await store.recentSpanCorrelations(limit: 2)
        XCTAssertEqual(ids(two), ["ord-1", "ord-2"])
        let none = try await store.recentSpanCorrelations(limit: 0)
        XCTAssertEqual(none, [])
    }

    func testReplacedAndPrunedSpansKeepTheListInStep() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans([
            span("a", "1", start: 100, conversation: "ord-1"),
            span("a", "2", start: 200, conversation: "ord-1"),
            span("b", "3", start: 300, conversation: "ord-2"),
        ])
        // The same span sent again (an exporter's retry): counted once.
        try await store.insertSpans([span("b", "3", start: 300, conversation: "ord-2")])
        var list = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list.map(\.spans), [1, 2])
        // Sent again with another conversation and a later start: it moves.
        try await store.insertSpans([span("a", "2", start: 400, conversation: "ord-2")])
        list = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 400, spans: 2),
                              SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 100, spans: 1)])
        // Retention deletes ord-1's only span: ord-1 goes; ord-2 keeps its newest start.
        try await store.pruneSpans(olderThanUnixNano: 150, maxSpans: 100)
        list = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 400, spans: 2)])
        // The cap deletes the older of ord-2's spans: its newest start stays, the count follows.
        try await store.pruneSpans(olderThanUnixNano: 0, maxSpans: 1)
        list = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 400, spans: 1)])
    }

    func testAStoreWrittenBeforeTheSummaryIsSummarisedWhenOpenedAndReadOnlyItIsScanned() async throws {
        let p = path()
        do {
            let store = try SQLiteLog(path: p)
            try await store.insertSpans([span("a", "1", start: 100, conversation: "ord-old"),
                                         span("b", "2", start: 200, conversation: "ord-new")])
        }
        // Spans written before the summary table existed: their rows carry the correlation id as text, not
        // as a reference to the summary (a legacy store without it is in SpanLayoutTests).
        try python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            texts = dict(db.execute('SELECT id, correlation_id FROM span_correlations'))
            for key, ref in db.execute('SELECT start_key, correlation_id FROM span_rows').fetchall():
                db.execute('UPDATE span_rows SET correlation_id = ? WHERE start_key = ?', (texts[int.from_bytes(ref, 'big')], key))
            db.execute('DROP TABLE span_correlations')
            db.commit()
            """, [p])
        // Read-only, it cannot be added: the newest spans are read instead, with the same answer.
        let readOnly = try SQLiteLog(path: p, mode: .readOnly)
        let scanned = try await readOnly.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(ids(scanned), ["ord-new", "ord-old"])
        let one = try await readOnly.recentSpanCorrelations(limit: 1)
        XCTAssertEqual(ids(one), ["ord-new"])
        // Opened for writing, the summary is built from the spans already there, then kept by the writer.
        let writable = try SQLiteLog(path: p)
        var listed = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(listed, [SpanCorrelationSummary(correlationID: "ord-new", lastStartUnixNano: 200, spans: 1),
                                SpanCorrelationSummary(correlationID: "ord-old", lastStartUnixNano: 100, spans: 1)])
        try await writable.insertSpans([span("c", "3", start: 300, conversation: "ord-old")])
        listed = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(ids(listed), ["ord-old", "ord-new"])
    }

    /// The list reads `limit` rows of the summary through its index, however many spans there are: the
    /// query plan says so (no scan of `spans`, no sort).
    func testTheListIsAnIndexedReadNotAScan() async throws {
        let p = path()
        let store = try SQLiteLog(path: p)
        try await store.insertSpans((0..<200).map { i in span("a", String(format: "%x", i % 16) , start: UInt64(i), conversation: "ord-\(i % 7)") })
        let plan = try python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for row in db.execute('EXPLAIN QUERY PLAN SELECT correlation_id, last_start_ns, spans FROM span_correlations INDEXED BY span_correlations_by_last ORDER BY last_start_ns DESC, correlation_id DESC LIMIT 50'):
                print(row[-1])
            """, [p])
        XCTAssertTrue(plan.contains("span_correlations_by_last"), plan)
        XCTAssertFalse(plan.contains("TEMP B-TREE"), "no sort of the whole table: \(plan)")
        XCTAssertFalse(plan.contains("spans "), plan)
        _ = store
    }
}
