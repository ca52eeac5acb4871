import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// The span tables of the embedded store: lookups by trace and correlation id, links, replacement, retention.
final class SpanStoreTests: StoreTestCase {
    func span(_ trace: String, _ id: String, parent: String? = nil, start: UInt64, conversation: String? = nil,
              olderName: Bool = false, links: [SpanLink] = [], service: String = "orders") -> Span {
        var attributes: [SpanAttribute] = [SpanAttribute("messaging.system", .string("kafka"))]
        if let conversation {
            attributes.append(SpanAttribute(olderName ? "messaging.conversation_id" : "messaging.message.conversation_id",
                                            .string(conversation)))
        }
        return Span(traceID: String(repeating: trace, count: 32), spanID: String(repeating: id, count: 16),
                    parentSpanID: parent.map { String(repeating: $0, count: 16) }, service: service, name: "op \(id)",
                    kind: .consumer, startUnixNano: start, endUnixNano: start + 10,
                    status: SpanStatus(code: .error, message: "boom\u{1b}[31m"), attributes: attributes,
                    events: [SpanEvent(timeUnixNano: start + 5, name: "exception",
                                       attributes: [SpanAttribute("exception.message", .string("x"))])],
                    links: links)
    }

    func link(_ trace: String, _ id: String) -> SpanLink {
        SpanLink(traceID: String(repeating: trace, count: 32), spanID: String(repeating: id, count: 16),
                 attributes: [SpanAttribute("k", .array([.int(1), .keyValues([SpanAttribute("n", .bytes([0, 255]))])]))])
    }

    func testRoundTripByTraceInStartOrder() async throws {
        let store = try SQLiteLog(path: path())
        let spans = [span("a", "2", parent: "1", start: 200), span("a", "1", start: 100, conversation: "ord-1",
                                                                   links: [link("b", "9")])]
        let stored = try await store.insertSpans(spans)
        XCTAssertEqual(stored, 2)
        let trace = try await store.spans(traceID: String(repeating: "a", count: 32))
        XCTAssertEqual(trace, [spans[1], spans[0]])
        let none = try await store.spans(traceID: String(repeating: "c", count: 32))
        XCTAssertEqual(none, [])
    }

    func testCorrelationFollowsLinksAndChildren() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans([
            span("a", "1", start: 100, conversation: "ord-1"),                    // producer, creation span
            span("b", "2", start: 300, links: [link("a", "1")]),                  // consumer linked to it
            span("b", "3", parent: "2", start: 310),                              // child of the consumer
            span("c", "4", start: 400, conversation: "ord-1", olderName: true),   // older attribute name
            span("d", "5", start: 500, conversation: "ord-2"),                    // another saga
            span("e", "6", start: 50, links: [link("d", "5")]),                   // linked into the other saga
        ])
        let saga = try await store.spans(correlationID: "ord-1", limit: 100)
        XCTAssertEqual(saga.map(\.spanID.first), ["1", "2", "3", "4"])
        let other = try await store.spans(correlationID: "ord-2", limit: 100)
        XCTAssertEqual(other.map(\.spanID.first), ["6", "5"])
        let limited = try await store.spans(correlationID: "ord-1", limit: 2)
        XCTAssertEqual(limited.count, 2)
        let unknown = try await store.spans(correlationID: "ord-9", limit: 100)
        XCTAssertEqual(unknown, [])
    }

    func testReplacingASpanReplacesItsLinksAndCorrelation() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans([span("a", "1", start: 100, conversation: "ord-1"),
                                     span("b", "2", start: 200, links: [link("a", "1")])])
        try await store.insertSpans([span("b", "2", start: 200, conversation: "ord-3")])
        let one = try await store.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(one.map(\.spanID.first), ["1"])
        let three = try await store.spans(correlationID: "ord-3", limit: 10)
        XCTAssertEqual(three.map(\.links), [[]])
        let count = try await store.spanCount()
        XCTAssertEqual(count, 2)
    }

    /// Trace ids counted up from one share the 4 bytes the trace index keeps: the duplicate check then goes
    /// by start time, and a batch sent again still replaces itself (nothing doubles, the last one wins).
    func testSpansSentAgainReplaceThemselvesWhenManyTracesShareTheIndexedBytes() async throws {
        let store = try SQLiteLog(path: path())
        func counted(_ n: Int, name: String) -> Span {
            let trace = String(format: "%032x", n / 4 + 1), id = String(format: "%016x", n + 1)
            return Span(traceID: trace, spanID: id, parentSpanID: nil, service: "orders", name: name, kind: .consumer,
                        startUnixNano: 1_000_000 + UInt64(n / 2) * 1_000, endUnixNano: 1_000_000 + UInt64(n / 2) * 1_000 + 10,
                        status: SpanStatus(code: .unset), attributes: [])
        }
        for first in stride(from: 0, to: 3_000, by: 500) {
            try await store.insertSpans((first..<(first + 500)).map { counted($0, name: "first") })
        }
        // One trace's spans sent again among many traces sharing its indexed bytes, and a whole batch again.
        try await store.insertSpans((1_000..<1_500).map { counted($0, name: "again") })
        try await store.insertSpans([counted(2_999, name: "last")])
        let count = try await store.spanCount()
        XCTAssertEqual(count, 3_000)
        let trace = try await store.spans(traceID: String(format: "%032x", 1_000 / 4 + 1))
        XCTAssertEqual(trace.map(\.name), ["again", "again", "again", "again"])
        let last = try await store.spans(traceID: String(format: "%032x", 2_999 / 4 + 1))
        XCTAssertEqual(last.map(\.name).sorted(), ["first", "first", "first", "last"])
    }

    func testRetentionByAgeThenSize() async throws {
        let store = try SQLiteLog(path: path())
        try await store.insertSpans((1...9).map { span("a", String($0), start: UInt64($0) * 100, conversation: "o") }
                                    + [span("b", "1", start: 1000, links: [link("a", "1")])])
        var deleted = try await store.pruneSpans(olderThanUnixNano: 300, maxSpans: 100)
        XCTAssertEqual(deleted, 2)
        deleted = try await store.pruneSpans(olderThanUnixNano: 0, maxSpans: 3)
        XCTAssertEqual(deleted, 5)
        let left = try await store.spans(correlationID: "o", limit: 100)
        XCTAssertEqual(left.map(\.startUnixNano), [800, 900], "the span linked to a pruned span no longer joins")
        let linking = try await store.spans(traceID: String(repeating: "b", count: 32))
        XCTAssertEqual(linking.first?.links.count, 1, "the linking span itself is kept with its links")
        let count = try await store.spanCount()
        XCTAssertEqual(count, 3)
    }

    func testReadOnlyAndOldStoresWithoutSpanTables() async throws {
        let p = path()
        do {
            let store = try SQLiteLog(path: p)
            try await store.insertSpans([span("a", "1", start: 1, conversation: "ord-1")])
        }
        let readOnly = try SQLiteLog(path: p, mode: .readOnly)
        let spans = try await readOnly.spans(correlationID: "ord-1", limit: 10)
        XCTAssertEqual(spans.count, 1)
        do {
            try await readOnly.insertSpans([span("a", "2", start: 2)])
            XCTFail("a read-only store took spans")
        } catch let error as StoreError {
            XCTAssertEqual(error, .readOnly(p))
        }
        // A store from before spans existed: read-only sees no spans; read-write adds the tables.
        let old = path("old.db")
        do { _ = try SQLiteLog(path: old) }
        try runSQLite(old, "DROP VIEW spans; DROP TABLE span_link_targets; DROP TABLE span_rows; DROP TABLE span_strings; DROP TABLE span_count;")
        let oldReadOnly = try SQLiteLog(path: old, mode: .readOnly)
        let empty = try await oldReadOnly.spans(traceID: String(repeating: "a", count: 32))
        XCTAssertEqual(empty, [])
        let upgraded = try SQLiteLog(path: old)
        let n = try await upgraded.insertSpans([span("a", "1", start: 1)])
        XCTAssertEqual(n, 1)
    }

    func testCorruptSpanRowIsAnError() async throws {
        let p = path()
        do {
            let store = try SQLiteLog(path: p)
            try await store.insertSpans([span("a", "1", start: 1, conversation: "ord-1")])
        }
        try runSQLite(p, "UPDATE span_rows SET detail = X'00FF', kind = 9;")
        let store = try SQLiteLog(path: p, mode: .readOnly)
        do {
            _ = try await store.spans(correlationID: "ord-1", limit: 10)
            XCTFail("a corrupt span row decoded")
        } catch let error as StoreError {
            guard case .corrupt = error else { return XCTFail("\(error)") }
        }
    }

    /// Runs SQL with Python's sqlite3 (another process, as a foreign writer would).
    func runSQLite(_ file: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", file, sql]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
