import Foundation
import GRDB

/// Correlation ids in `span_rows` as references to their `span_correlations` row: the row's `id` as a
/// short big-endian BLOB (1–3 bytes for the first 16 million correlation ids) where the text (an order
/// number, often a 36-character UUID) was stored in the row and again in its index entry.
///
/// A BLOB because `span_rows.correlation_id` has TEXT affinity, which would turn an integer into its
/// decimal text, indistinguishable from a correlation id made of digits; a BLOB is kept as it is, never
/// equals a TEXT, and rows an earlier evtop wrote (the id as TEXT) stay readable beside the references.
/// `span_correlations` is then both the sagas-list summary and the intern table: its row lives as long as
/// spans carry the id (pruning deletes it at a count of 0, and only when no row is left that names it), and
/// its `id` is never reused (AUTOINCREMENT), so a reference can never point at another correlation id.
/// Should a row still name one that is gone (a count an older evtop got wrong), the span is read without
/// its correlation id rather than refused, so that pruning goes on.
///
/// Stores in this layout are schema version 2: an older evtop refuses them rather than read a reference
/// as text.
enum SpanCorrelationRefs {
    /// The reference to summary row `id` (which is at least 1): its big-endian bytes without leading zeros.
    static func encode(_ id: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        var v = UInt64(bitPattern: id)
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        } while v != 0
        return bytes.reversed()
    }

    /// The summary row a reference names; nil for bytes no reference has (empty, or longer than 8).
    static func decode<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= 8 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        return Int64(bitPattern: v)
    }

    /// `column`'s reference decoded in SQL alone (for the `spans` view, read by `sqlite3` sessions that
    /// have no evtop functions): its hex digits, read from the last one up.
    static func decodeSQL(_ column: String) -> String {
        (1...16).map { i in
            "((instr('0123456789ABCDEF', substr(hex(\(column)), -\(i), 1)) - 1) << \(4 * (i - 1)))"
        }.joined(separator: " + ")
    }

    /// Whether `span_correlations` has its `id` (a store an earlier evtop wrote keys it by the text alone
    /// until it is opened read-write, and its rows carry no references).
    static func areUsed(_ db: Database) throws -> Bool {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM pragma_table_info('span_correlations') WHERE name = 'id'")) == 1
    }

    /// The reference rows of correlation id `text` carry; nil when no span carries it (or references are
    /// not used yet). `used`: ``areUsed(_:)`` when the caller knows it already (once for many ids).
    static func reference(to text: String, _ db: Database, used: Bool? = nil) throws -> [UInt8]? {
        guard try used ?? areUsed(db) else { return nil }
        return try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM span_correlations WHERE correlation_id = ?"),
                                  arguments: [text]).map(encode)
    }

    /// A stored `correlation_id` that is neither TEXT, NULL nor a reference.
    struct Malformed: Error {}

    /// The correlation id a stored `correlation_id` value stands for: itself when TEXT, the text of the
    /// summary row it references when a BLOB (nil when that row is gone: the span is then shown without
    /// one, and pruning has nothing to count down).
    static func text(of value: DatabaseValue, _ db: Database) throws -> String? {
        switch value.storage {
        case .null: return nil
        case .string(let text): return text
        case .blob(let data):
            guard let id = decode(data) else { throw Malformed() }
            return try String.fetchOne(db.cachedStatement(sql: "SELECT correlation_id FROM span_correlations WHERE id = ?"),
                                       arguments: [id])
        default: throw Malformed()
        }
    }

    /// The reference for `text`, adding `count` spans starting at most `last` to its summary (a new row when
    /// no span carried it). Runs in the writer's transaction, before the rows that carry the reference.
    static func claim(_ text: String, last: Int64, count: Int, _ db: Database) throws -> [UInt8] {
        if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM span_correlations WHERE correlation_id = ?"),
                                       arguments: [text]) {
            if count > 0 {
                try db.cachedStatement(sql: """
                    UPDATE span_correlations SET last_start_ns = max(last_start_ns, ?2), spans = spans + ?3 WHERE id = ?1
                    """).execute(arguments: [id, last, count])
            }
            return encode(id)
        }
        try db.cachedStatement(sql: "INSERT INTO span_correlations(correlation_id, last_start_ns, spans) VALUES (?, ?, ?)")
            .execute(arguments: [text, last, count])
        return encode(db.lastInsertedRowID)
    }

    /// Gives a `span_correlations` of the layout before references (keyed by the text, no `id`) its ids:
    /// one row per correlation id, so the move is quick whatever the number of spans. Runs in the opening
    /// write transaction.
    static func moveEarlierSummary(_ db: Database) throws {
        let exists = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'span_correlations'") == 1
        guard exists, try !areUsed(db) else { return }
        try db.execute(sql: SQLiteLog.spanCorrelationTableSQL(name: "span_correlations_moving"))
        try db.execute(sql: """
            INSERT INTO span_correlations_moving(correlation_id, last_start_ns, spans)
            SELECT correlation_id, last_start_ns, spans FROM span_correlations WHERE typeof(correlation_id) = 'text' ORDER BY last_start_ns;
            DROP TABLE span_correlations;
            """)
        // The triggers of a legacy layout still there (moved right after) name `span_correlations`: a
        // rename that checks them would fail on the table dropped just now.
        try db.execute(sql: "PRAGMA legacy_alter_table = ON")
        defer { try? db.execute(sql: "PRAGMA legacy_alter_table = OFF") }
        try db.execute(sql: "ALTER TABLE span_correlations_moving RENAME TO span_correlations")
    }

    /// Recounts every summary row from `span_rows` (after spans were moved in without counting), adding
    /// rows for correlation ids that rows carry as text. One indexed count per correlation id.
    static func recount(_ db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO span_correlations(correlation_id, last_start_ns, spans)
            SELECT DISTINCT correlation_id, 0, 0 FROM span_rows WHERE typeof(correlation_id) = 'text'
            """)
        let count = try db.makeStatement(sql: """
            SELECT max(start_key - start_shift), count(*) FROM span_rows WHERE correlation_id IN (?1, ?2)
            """)
        let update = try db.makeStatement(sql: "UPDATE span_correlations SET last_start_ns = ?2, spans = ?3 WHERE id = ?1")
        let drop = try db.makeStatement(sql: "DELETE FROM span_correlations WHERE id = ?")
        var after: Int64 = 0
        while true {
            // In chunks by id: memory stays bounded, and rows changed below are not read again.
            let chunk = try Row.fetchAll(db, sql: "SELECT id, correlation_id FROM span_correlations WHERE id > ? ORDER BY id LIMIT 5000",
                                         arguments: [after])
            guard let last = chunk.last, let lastID = Int64.fromDatabaseValue(last[0]) else { return }
            after = lastID
            for row in chunk {
                guard let id = Int64.fromDatabaseValue(row[0]), let text = String.fromDatabaseValue(row[1]),
                      let found = try Row.fetchOne(count, arguments: [text, Data(encode(id))]) else { continue }
                if let newest = Int64.fromDatabaseValue(found[0]), let spans = Int.fromDatabaseValue(found[1]), spans > 0 {
                    try update.execute(arguments: [id, newest, spans])
                } else {
                    try drop.execute(arguments: [id])
                }
            }
        }
    }
}
