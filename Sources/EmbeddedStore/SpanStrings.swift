import GRDB
import Synchronization

/// The strings spans repeat (services, span names, attribute keys, event names, and the values of
/// attributes with few distinct values, such as `messaging.system` or a topic name), stored once in
/// `span_strings` and referred to by id from `span_rows` and their detail.
///
/// Ids are never reused or deleted, so what this cache holds stays true whoever else writes the file.
/// Only committed entries enter it (``commit(_:)`` after the transaction): a rolled-back insert leaves
/// no id behind. The table is bounded: ``maxEntries`` in all, at most ``valuesPerKey`` distinct values
/// interned per attribute key (ids, offsets and other values that never repeat stay inline), and no
/// string longer than ``maxLength``.
final class SpanStrings: Sendable {
    static let maxEntries = 50_000
    static let valuesPerKey = 32
    static let maxLength = 96

    private struct State {
        var byText: [String: Int64] = [:]
        var byID: [Int64: String] = [:]
        /// Distinct values interned per attribute key (by this process, and found at load).
        var valuesPerKey: [String: Int] = [:]
        var loaded = false
    }

    private let state = Mutex(State())

    /// Strings added by one write transaction, not yet committed.
    struct Pending {
        var byText: [String: Int64] = [:]
        var valuesPerKey: [String: Int] = [:]
    }

    /// The id of `text` when it is known.
    func id(_ text: String) -> Int64? { state.withLock { $0.byText[text] } }

    /// The text of `id`, reading `span_strings` when this process has not seen it yet (another process
    /// wrote it). Throws ``Missing`` when the table has no such id (a damaged row).
    func text(_ id: Int64, _ db: Database) throws -> String {
        if let known = state.withLock({ $0.byID[id] }) { return known }
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT text FROM span_strings WHERE id = ?"), arguments: [id]) else {
            throw Missing()
        }
        state.withLock { s in
            s.byID[id] = text
            s.byText[text] = id
        }
        return text
    }

    struct Missing: Error {}

    /// Loads the whole table once (it is bounded by ``maxEntries``): the writer then knows every id.
    func loadIfNeeded(_ db: Database) throws {
        guard !state.withLock({ $0.loaded }) else { return }
        var byText: [String: Int64] = [:]
        var byID: [Int64: String] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT id, text FROM span_strings")
        while let row = try rows.next() {
            guard let id: Int64 = row[0], let text: String = row[1] else { continue }
            byText[text] = id
            byID[id] = text
        }
        state.withLock { s in
            s.byText.merge(byText) { a, _ in a }
            s.byID.merge(byID) { a, _ in a }
            s.loaded = true
        }
    }

    /// The id of `text` for a row or detail being written, adding it to `span_strings` when the policy
    /// allows; nil keeps the text inline.
    func intern(_ text: String, _ role: SpanDetailCodec.Role, _ pending: inout Pending, _ db: Database) throws -> Int64? {
        if let id = pending.byText[text] { return id }
        let (known, total, perKey) = state.withLock { s -> (Int64?, Int, Int) in
            var perKey = 0
            if case .value(let key) = role { perKey = s.valuesPerKey[key, default: 0] }
            return (s.byText[text], s.byText.count, perKey)
        }
        if let known { return known }
        guard text.utf8.count <= Self.maxLength, total + pending.byText.count < Self.maxEntries else { return nil }
        if case .value(let key) = role {
            guard perKey + pending.valuesPerKey[key, default: 0] < Self.valuesPerKey else { return nil }
            pending.valuesPerKey[key, default: 0] += 1
        }
        // Another process may have added it since this one loaded the table.
        let id: Int64
        if let found = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM span_strings WHERE text = ?"), arguments: [text]) {
            id = found
        } else {
            try db.cachedStatement(sql: "INSERT INTO span_strings(text) VALUES (?)").execute(arguments: [text])
            id = db.lastInsertedRowID
        }
        pending.byText[text] = id
        return id
    }

    /// Makes a committed transaction's strings known.
    func commit(_ pending: Pending) {
        guard !pending.byText.isEmpty else { return }
        state.withLock { s in
            for (text, id) in pending.byText {
                s.byText[text] = id
                s.byID[id] = text
            }
            for (key, n) in pending.valuesPerKey { s.valuesPerKey[key, default: 0] += n }
        }
    }
}
