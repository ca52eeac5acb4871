@testable import EmbeddedStore
import EventModel
import Foundation
import GRDB
import XCTest

/// The compact span layout (`span_rows`): exact round trips of unusual spans, the bounded string
/// dictionary, and stores written in the legacy layout (`spans`), read as they are and moved when opened.
final class SpanLayoutTests: StoreTestCase {
    func hex(_ n: UInt64, _ digits: Int) -> String { String(repeating: "0", count: max(0, digits - 16)) + SpanIDs.hex(n) }

    /// A messaging span with everything the detail holds.
    func rich(_ n: UInt64, start: UInt64, conversation: String?, parent: String? = nil, links: [SpanLink] = []) -> Span {
        var attributes = [
            SpanAttribute("messaging.system", .string("kafka")),
            SpanAttribute("messaging.destination.name", .string("orders")),
            SpanAttribute("messaging.kafka.offset", .int(Int64(n) * 1_000)),
            SpanAttribute("ratio", .double(0.25)),
            SpanAttribute("flag", .bool(true)),
            SpanAttribute("raw", .bytes([0, 1, 255])),
            SpanAttribute("nested", .array([.int(-1), .keyValues([SpanAttribute("messaging.message.conversation_id", .string("inner"))])])),
        ]
        if let conversation { attributes.append(SpanAttribute("messaging.message.conversation_id", .string(conversation))) }
        return Span(traceID: hex(n, 32), spanID: hex(n | 1 << 40, 16), parentSpanID: parent, service: "svc-\(n % 3)", name: "publish",
                    kind: .producer, startUnixNano: start, endUnixNano: start + 500,
                    status: SpanStatus(code: .error, message: n % 2 == 0 ? "" : "failed: \u{1b}[31m é"),
                    attributes: attributes,
                    events: [SpanEvent(timeUnixNano: start - 7, name: "exception",
                                       attributes: [SpanAttribute("exception.message", .string("x\(n)"))])],
                    links: links)
    }

    func testUnusualSpansRoundTripExactly() async throws {
        let store = try SQLiteLog(path: path())
        let base: UInt64 = 1_800_000_000_000_000_000
        var spans: [Span] = []
        // Ids that are not W3C lowercase hex stay text; uppercase hex is not folded.
        spans.append(Span(traceID: "my-trace", spanID: "s1", parentSpanID: "S0", service: "a", name: "b", kind: .internal,
                          startUnixNano: base, endUnixNano: base - 5))   // ends before it starts
        spans.append(Span(traceID: hex(1, 32).uppercased(), spanID: hex(2, 16).uppercased(), service: "a", name: "b",
                          startUnixNano: base, endUnixNano: base))       // same start: moved a nanosecond
        // Ten spans at one start, and two at the last representable nanosecond.
        for i in 0..<10 { spans.append(rich(UInt64(100 + i), start: base + 1, conversation: "c-\(i % 2)")) }
        spans.append(rich(200, start: UInt64(Int64.max), conversation: nil))
        spans.append(rich(201, start: UInt64(Int64.max), conversation: nil))
        // Links: to the parent, to the same trace, to another trace, to a text id.
        let parent = rich(300, start: base + 10, conversation: "c-link")
        var linking = rich(300, start: base + 20, conversation: nil, parent: parent.spanID, links: [
            SpanLink(traceID: parent.traceID, spanID: parent.spanID, attributes: [SpanAttribute("k", .string("v"))]),
            SpanLink(traceID: parent.traceID, spanID: hex(77, 16)),
            SpanLink(traceID: hex(9, 32), spanID: hex(8, 16)),
            SpanLink(traceID: "legacy-id", spanID: "x"),
        ])
        linking.spanID = hex(302, 16)
        var sibling = linking
        sibling.spanID = hex(301, 16)
        spans += [parent, linking, sibling]
        let n = try await store.insertSpans(spans)
        XCTAssertEqual(n, spans.count)
        for span in spans {
            let found = try await store.spans(traceID: span.traceID)
            XCTAssertTrue(found.contains(span), "\(span.traceID)/\(span.spanID) did not round-trip: \(found)")
        }
        let count = try await store.spanCount()
        XCTAssertEqual(count, spans.count)
        // The conversation attribute is stored as a reference to the row's correlation id: it comes back.
        let c0 = try await store.spans(correlationID: "c-0", limit: 100)
        XCTAssertEqual(c0.count, 5)
        XCTAssertEqual(c0.first?.correlationID, "c-0")
        // Children and links are followed from the saga's span.
        let linked = try await store.spans(correlationID: "c-link", limit: 100)
        XCTAssertEqual(Set(linked.map(\.spanID)), [parent.spanID, linking.spanID, sibling.spanID])
    }

    func testDuplicatesInOneBatchAndAcrossBatchesKeepTheLast() async throws {
        let store = try SQLiteLog(path: path())
        let a = rich(1, start: 1_000, conversation: "c-1")
        var b = a
        b.name = "second"
        try await store.insertSpans([a, b])
        var count = try await store.spanCount()
        XCTAssertEqual(count, 1)
        var c = a
        c.startUnixNano = 5_000
        c.endUnixNano = 6_000
        c.attributes = [SpanAttribute("messaging.message.conversation_id", .string("c-2"))]
        try await store.insertSpans([c])
        count = try await store.spanCount()
        XCTAssertEqual(count, 1)
        let trace = try await store.spans(traceID: a.traceID)
        XCTAssertEqual(trace, [c])
        let list = try await store.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "c-2", lastStartUnixNano: 5_000, spans: 1)])
    }

    func testTheStringDictionaryIsBounded() async throws {
        let store = try SQLiteLog(path: path())
        var spans: [Span] = []
        for i in 0..<500 {
            spans.append(Span(traceID: hex(UInt64(i), 32), spanID: hex(UInt64(i), 16), service: "svc", name: "op",
                              startUnixNano: UInt64(i), endUnixNano: UInt64(i),
                              attributes: [SpanAttribute("messaging.message.id", .string("id-\(i)")),
                                           SpanAttribute("messaging.system", .string("kafka"))]))
        }
        try await store.insertSpans(Array(spans.prefix(250)))
        try await store.insertSpans(Array(spans.suffix(250)))
        let entries = try await store.file.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM span_strings") ?? 0 }
        // svc, op, two keys, kafka, and the first few message ids only.
        XCTAssertLessThanOrEqual(entries, 5 + SpanStrings.valuesPerKey)
        let back = try await store.spans(traceID: hex(499, 32))
        XCTAssertEqual(back, [spans[499]])
        // Another connection (another process would do the same) reads the ids back from the table.
        let reader = try SQLiteLog(path: path(), mode: .readOnly)
        let again = try await reader.spans(traceID: hex(3, 32))
        XCTAssertEqual(again, [spans[3]])
    }

    /// Lookups by trace (and the duplicate check) go through the 4-byte trace index, not a scan.
    func testTraceLookupsUseTheTraceIndex() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans([rich(1, start: 10, conversation: nil)])
        let plan = try await store.file.read { db in
            try Row.fetchAll(db, sql: """
                EXPLAIN QUERY PLAN SELECT \(SQLiteLog.rowColumns) FROM span_rows
                WHERE trace_lo >> 32 = ?1 >> 32 AND +trace_lo = ?1 AND trace_hi = ?2 AND parent_span_id = ?3
                """, arguments: [1, 0, 2]).map { $0[3] as String? ?? "" }.joined(separator: "; ")
        }
        XCTAssertTrue(plan.contains("span_rows_by_trace"), plan)
    }

    func testCompactDetailRejectsDamagedBytes() {
        let span = rich(5, start: 1_000, conversation: "c", parent: hex(4, 16), links: [SpanLink(traceID: hex(5, 32), spanID: hex(4, 16))])
        let bytes = SpanDetailCodec.encodeCompact(span, correlationID: "c") { _, _ in nil }
        let context = SpanDetailCodec.Context(traceID: span.traceID, parentSpanID: span.parentSpanID, startUnixNano: 1_000, correlationID: "c")
        let back = try? SpanDetailCodec.decodeCompact(bytes, context) { _ in "?" }
        XCTAssertEqual(back?.attributes, span.attributes)
        XCTAssertEqual(back?.events, span.events)
        XCTAssertEqual(back?.links, span.links)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<2_000 {
            var damaged = bytes
            if i % 2 == 0 { damaged = Array(damaged.prefix(Int.random(in: 0..<damaged.count, using: &rng))) }
            else { damaged[Int.random(in: 1..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? SpanDetailCodec.decodeCompact(damaged, context) { _ in "?" }
        }
    }

    // MARK: - Legacy stores

    /// Writes `spans` the way the legacy layout did (format-1 detail, text ids, `span_links`), into a
    /// store whose compact tables are dropped; `summary` false also drops `span_correlations`.
    func makeLegacyStore(_ p: String, _ spans: [Span], summary: Bool) throws {
        do { _ = try SQLiteLog(path: p) }
        let queue = try DatabaseQueue(path: p)
        try queue.write { db in
            try db.execute(sql: "DROP VIEW spans; DROP TABLE span_rows; DROP TABLE span_strings; DROP TABLE span_link_targets; DROP TABLE span_count;")
            try db.execute(sql: SQLiteLog.legacySpanSchemaSQL)
            for s in spans {
                try db.execute(sql: """
                    INSERT INTO spans(trace_id, span_id, parent_span_id, service, name, kind, start_ns, end_ns, status_code,
                        status_message, correlation_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.traceID, s.spanID, s.parentSpanID, s.service, s.name, s.kind.rawValue,
                                     Int64(s.startUnixNano), Int64(s.endUnixNano), s.status.code.rawValue, s.status.message,
                                     s.correlationID, Data(SpanDetailCodec.encode(attributes: s.attributes, events: s.events, links: s.links))])
                for l in s.links {
                    try db.execute(sql: "INSERT INTO span_links VALUES (?, ?, ?, ?)", arguments: [s.traceID, s.spanID, l.traceID, l.spanID])
                }
            }
            if summary {
                try db.execute(sql: """
                    INSERT INTO span_correlations(correlation_id, last_start_ns, spans)
                    SELECT correlation_id, max(start_ns), count(*) FROM spans WHERE correlation_id IS NOT NULL GROUP BY correlation_id
                    """)
            } else {
                try db.execute(sql: "DROP TABLE span_correlations")
            }
        }
        try queue.close()
    }

    func testALegacyStoreIsReadAsItIsThenMovedWhenOpenedForWriting() async throws {
        let p = path()
        let creation = rich(1, start: 1_000, conversation: "ord-1")
        let consumer = Span(traceID: hex(2, 32), spanID: hex(2, 16), service: "billing", name: "process", kind: .consumer,
                            startUnixNano: 2_000, endUnixNano: 2_500, links: [SpanLink(traceID: creation.traceID, spanID: creation.spanID)])
        let child = Span(traceID: hex(2, 32), spanID: hex(3, 16), parentSpanID: hex(2, 16), service: "billing", name: "charge",
                         startUnixNano: 2_100, endUnixNano: 2_200)
        let other = rich(4, start: 3_000, conversation: "ord-2")
        let spans = [creation, consumer, child, other]
        try makeLegacyStore(p, spans, summary: false)

        let readOnly = try SQLiteLog(path: p, mode: .readOnly)
        var saga = try await readOnly.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [creation, consumer, child])
        var list = try await readOnly.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list.map(\.correlationID), ["ord-2", "ord-1"])
        var count = try await readOnly.spanCount()
        XCTAssertEqual(count, 4)

        let writable = try SQLiteLog(path: p)
        let tables = try await writable.file.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('spans', 'span_links', 'span_rows') ORDER BY name")
        }
        XCTAssertEqual(tables, ["span_rows"], "the legacy tables are gone once moved")
        // Scripts that read `spans` with SQL read the view of the moved rows.
        let viewed = try await writable.file.read { db in
            try Row.fetchAll(db, sql: "SELECT trace_id, span_id, parent_span_id, service, name, start_ns, end_ns, status_message FROM spans ORDER BY start_ns")
        }
        XCTAssertEqual(viewed.map { $0[0] as String? }, spans.map(\.traceID))
        XCTAssertEqual(viewed.map { $0[2] as String? }, spans.map(\.parentSpanID))
        XCTAssertEqual(viewed.map { $0[3] as String? }, spans.map(\.service))
        XCTAssertEqual(viewed.map { $0[4] as String? }, spans.map(\.name))
        XCTAssertEqual(viewed.map { $0[6] as Int64? }, spans.map { Int64($0.endUnixNano) })
        XCTAssertEqual(viewed.map { $0[7] as String? }, spans.map(\.status.message))
        for s in spans {
            let trace = try await writable.spans(traceID: s.traceID)
            XCTAssertTrue(trace.contains(s))
        }
        saga = try await writable.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(saga, [creation, consumer, child])
        list = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list, [SpanCorrelationSummary(correlationID: "ord-2", lastStartUnixNano: 3_000, spans: 1),
                              SpanCorrelationSummary(correlationID: "ord-1", lastStartUnixNano: 1_000, spans: 1)])
        count = try await writable.spanCount()
        XCTAssertEqual(count, 4)
        try await writable.insertSpans([rich(5, start: 4_000, conversation: "ord-1")])
        let pruned = try await writable.pruneSpans(olderThanUnixNano: 0, maxSpans: 2)
        XCTAssertEqual(pruned, 3)
        list = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(list.map(\.correlationID), ["ord-1", "ord-2"])
        // And the moved store opens again, read-only too.
        let again = try SQLiteLog(path: p, mode: .readOnly)
        count = try await again.spanCount()
        XCTAssertEqual(count, 2)
    }

    func testALegacyStoreWithItsSummaryIsMovedToo() async throws {
        let p = path()
        try makeLegacyStore(p, [rich(1, start: 10, conversation: "a"), rich(2, start: 20, conversation: "a")], summary: true)
        let readOnly = try SQLiteLog(path: p, mode: .readOnly)
        let listed = try await readOnly.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(listed, [SpanCorrelationSummary(correlationID: "a", lastStartUnixNano: 20, spans: 2)])
        let writable = try SQLiteLog(path: p)
        let moved = try await writable.recentSpanCorrelations(limit: 10)
        XCTAssertEqual(moved, listed)
        let saga = try await writable.spans(correlationID: "a", limit: 10)
        XCTAssertEqual(saga.count, 2)
    }
}
