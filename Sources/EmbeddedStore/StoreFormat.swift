import Foundation
import GRDB
import SQLiteSupport

/// The on-disk format of an evtop store, and the checks made before opening one.
enum StoreFormat {
    /// `PRAGMA application_id`: ASCII "evtp".
    static let applicationID: Int32 = 0x6576_7470
    /// The only schema this build reads and writes.
    /// 2: span rows reference their correlation ids (``SpanCorrelationRefs``); 1 stores are read as they
    /// are and moved to 2 when opened for writing (``markCurrentVersion(_:)``).
    static let schemaVersion = 2
    /// `evtop_meta.format`.
    static let formatName = "evtop-store"

    static let schemaSQL = """
        CREATE TABLE evtop_meta(
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE topics(
            name TEXT PRIMARY KEY NOT NULL,
            partitions INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE partitions(
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            low INTEGER NOT NULL DEFAULT 0,
            high INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(topic, "partition")
        ) WITHOUT ROWID;
        CREATE TABLE records(
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            key BLOB,
            headers BLOB,
            value BLOB,
            PRIMARY KEY(topic, "partition", "offset")
        ) WITHOUT ROWID;
        CREATE TABLE group_offsets(
            group_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            committed INTEGER NOT NULL,
            committed_at INTEGER NOT NULL,
            PRIMARY KEY(group_id, topic, "partition")
        ) WITHOUT ROWID;
        CREATE TABLE group_members(
            group_id TEXT NOT NULL,
            member TEXT NOT NULL,
            last_seen INTEGER NOT NULL,
            PRIMARY KEY(group_id, member)
        ) WITHOUT ROWID;
        """

    /// What an existing, non-empty file turned out to be.
    enum Existing {
        /// A valid evtop store of a supported schema.
        case store
        /// A SQLite database with no tables and no application id: may be initialised.
        case emptyDatabase
    }

    /// Checks a file read-only, never modifying it. Throws a `StoreError` for anything that is not
    /// a healthy evtop store of a supported schema (or an empty SQLite database).
    static func inspect(path: String) throws -> Existing {
        // 1. The 100-byte header, read as plain bytes: rejects non-databases without involving SQLite.
        let header: [UInt8]
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            header = Array(try handle.read(upToCount: 100) ?? Data())
        } catch {
            throw StoreError.cannotOpen(path, "\(error.localizedDescription)")
        }
        guard header.count == 100, header.starts(with: Array("SQLite format 3\u{0}".utf8)) else {
            throw StoreError.corrupt(path, "not a SQLite database (bad file header)")
        }
        func be32(_ at: Int) -> Int32 {
            Int32(bitPattern: UInt32(header[at]) << 24 | UInt32(header[at + 1]) << 16
                  | UInt32(header[at + 2]) << 8 | UInt32(header[at + 3]))
        }
        // Without a -wal file the header is authoritative: decide what we can before SQLite opens the
        // file (a read-only SQLite connection to a WAL database would create -wal/-shm siblings).
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? nil
        if (walSize ?? 0) == 0 {
            let appID = be32(68), userVersion = Int(be32(60))
            if appID != 0 && appID != applicationID { throw StoreError.notAnEvtopStore(path) }
            if appID == applicationID && userVersion > schemaVersion {
                throw StoreError.newerSchema(path, found: userVersion, supported: schemaVersion)
            }
        }

        // 2. SQLite, read-only; in a folder that cannot take a -shm file, as an immutable file (see SQLiteFile).
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(SQLiteLog.busyTimeout)
        config.label = "evtop.store.inspect"
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: SQLiteFile.mustOpenImmutable(path) ? SQLiteFile.immutableURI(path) : path,
                                      configuration: config)
        } catch let error as DatabaseError {
            throw StoreError.inspecting(SQLiteFailure(error, path: path, busyTimeout: SQLiteLog.busyTimeout))
        }
        defer { try? queue.close() }
        do {
            return try queue.read { db in try inspect(db, path: path) }
        } catch let error as DatabaseError {
            throw StoreError.inspecting(SQLiteFailure(error, path: path, busyTimeout: SQLiteLog.busyTimeout))
        } catch let failure as SQLiteFailure {
            throw StoreError.inspecting(failure)
        }
    }

    /// The checks on an open connection. Also used inside the creating transaction.
    static func inspect(_ db: Database, path: String, quickCheck: Bool = true) throws -> Existing {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let userVersion = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let tables = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'
            """)
        if tables.isEmpty && appID == 0 && userVersion == 0 { return .emptyDatabase }
        guard appID == applicationID, tables.contains("evtop_meta") else {
            throw StoreError.notAnEvtopStore(path)
        }
        let meta = Dictionary(
            try Row.fetchAll(db, sql: "SELECT key, value FROM evtop_meta").map { (try $0.value(at: 0, of: path) as String, try $0.value(at: 1, of: path) as String) },
            uniquingKeysWith: { _, last in last })
        guard meta["format"] == formatName else { throw StoreError.notAnEvtopStore(path) }
        guard let versionText = meta["schema_version"], let version = Int(versionText) else {
            throw StoreError.corrupt(path, "evtop_meta has no valid schema_version")
        }
        let found = max(version, userVersion)
        if found > schemaVersion {
            throw StoreError.newerSchema(path, found: found, supported: schemaVersion)
        }
        try checkSchema(db, path: path)
        if quickCheck {
            let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
            if problems != ["ok"] {
                throw StoreError.corrupt(path, "integrity check failed: " + problems.joined(separator: "; "))
            }
        }
        return .store
    }

    /// The columns of each table the schema promises, from the schema itself: the core tables
    /// (``schemaSQL``) every store has, and the ones created on first use (the correlation index, spans).
    private static let promisedTables: (core: [String: [TableColumn]], onDemand: [String: [TableColumn]]) = {
        func columns(_ sql: String) -> [String: [TableColumn]] {
            do {
                let queue = try DatabaseQueue()
                return try queue.write { db in
                    try db.execute(sql: sql)
                    return try tableColumns(db)
                }
            } catch {
                // The schema is this build's own text: failing to create it in memory is a bug in evtop.
                preconditionFailure("evtop's own store schema does not load: \(error)")
            }
        }
        let core = columns(schemaSQL)
        let all = columns(schemaSQL + ";" + CorrelationIndex.tablesSQL + ";" + SQLiteLog.spanSchemaSQL + ";" + SQLiteLog.spanCorrelationSQL + ";" + SQLiteLog.recordingSQL)
        return (core, all.filter { core[$0.key] == nil })
    }()

    /// One column as `PRAGMA table_info` describes it.
    struct TableColumn: Equatable {
        var name: String
        /// NOT NULL without a default: an insert that does not name it fails.
        var required: Bool
    }

    /// Every table's columns, by table name.
    private static func tableColumns(_ db: Database) throws -> [String: [TableColumn]] {
        let tables = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
            """)
        var result: [String: [TableColumn]] = [:]
        for table in tables {
            let rows = try Row.fetchAll(db, sql: "SELECT name, \"notnull\", dflt_value FROM pragma_table_info(?)", arguments: [table])
            result[table] = rows.map { row in
                let notNull: Int = row[1] ?? 0
                let defaultValue: DatabaseValue = row[2]
                return TableColumn(name: row[0] ?? "", required: notNull != 0 && defaultValue.isNull)
            }
        }
        return result
    }

    /// Columns a store written by an earlier evtop lacks, that its first read-write open adds (reads work
    /// without them): `span_correlations.id` (``SpanCorrelationRefs/moveEarlierSummary(_:)``).
    static let earlierLayoutLacks: [String: Set<String>] = ["span_correlations": ["id"]]

    /// Checks that the store has the tables and columns its schema version promises. A store edited by
    /// hand (a dropped table or column, an added column every insert would have to name) would work for
    /// some commands and fail others with SQLite's own words: refuse it whole, before anything is written.
    static func checkSchema(_ db: Database, path: String) throws {
        let found = try tableColumns(db)
        func check(_ table: String, _ promised: [TableColumn], required: Bool) throws {
            guard let columns = found[table] else {
                if required { throw StoreError.unexpectedSchema(path, "table \(table) is missing") }
                return
            }
            let names = Set(columns.map(\.name))
            let addedOnOpen = earlierLayoutLacks[table] ?? []
            if let gone = promised.first(where: { !names.contains($0.name) && !addedOnOpen.contains($0.name) }) {
                throw StoreError.unexpectedSchema(path, "table \(table) has no column \(gone.name)")
            }
            let known = Set(promised.map(\.name))
            if let extra = columns.first(where: { $0.required && !known.contains($0.name) }) {
                throw StoreError.unexpectedSchema(path, "table \(table) has an unknown required column \(extra.name)")
            }
        }
        for (table, columns) in promisedTables.core.sorted(by: { $0.key < $1.key }) {
            try check(table, columns, required: true)
        }
        // The correlation index in an earlier layout (`index_records`) is dropped and rebuilt from the log
        // on the first read-write open: its tables are not this version's to check.
        let earlierIndex = found["index_records"] != nil
        for (table, columns) in promisedTables.onDemand.sorted(by: { $0.key < $1.key }) {
            if earlierIndex, table.hasPrefix("index_") { continue }
            try check(table, columns, required: false)
        }
    }

    /// Creates a new store at `path`, where no file exists: the store is built whole in a temporary file
    /// beside it, then moved into place by a rename that refuses to replace a file that appeared there
    /// meanwhile. So `path` is never a half-made store, a file someone else put there (even an empty
    /// one) is never written, and the store never has two names (``StoreNames`` refuses that).
    /// Returns false when a file was already there (the caller then opens it as an existing file).
    static func createStore(at path: String) throws -> Bool {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).creating-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        }
        do {
            let queue = try DatabaseQueue(path: temporary)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.inTransaction(.immediate) {
                    try createSchemaIfNeeded(db, path: path)
                    return .commit
                }
            }
            try queue.close()
        } catch let error as DatabaseError {
            throw StoreError.inspecting(SQLiteFailure(error, path: path, busyTimeout: SQLiteLog.busyTimeout))
        }
        if let renameNoReplace {
            if renameNoReplace(AT_FDCWD, temporary, AT_FDCWD, path, 1 /* RENAME_NOREPLACE */) == 0 { return true }
            if errno == EEXIST { return false }
            // EINVAL or ENOSYS: a file system or kernel without it; fall through.
        }
        // link() also refuses an existing file, but the store has two names until the temporary one goes.
        if link(temporary, path) == 0 {
            unlink(temporary)
            return true
        }
        let linkError = errno
        if linkError == EEXIST { return false }
        // No hard links either: rename, which cannot refuse an existing file, so look first.
        if FileManager.default.fileExists(atPath: path) { return false }
        guard rename(temporary, path) == 0 else {
            throw StoreError.cannotOpen(path, String(cString: strerror(linkError)))
        }
        return true
    }

    /// Linux's `renameat2`, looked up at run time (not every C library declares it).
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameNoReplace: RenameAt2? = {
        guard let symbol = dlsym(nil, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// Creates the schema when the database has none. Must run inside an IMMEDIATE transaction.
    static func createSchemaIfNeeded(_ db: Database, path: String) throws {
        switch try inspect(db, path: path, quickCheck: false) {
        case .store:
            return
        case .emptyDatabase:
            try db.execute(sql: schemaSQL)
            try db.execute(sql: "INSERT INTO evtop_meta(key, value) VALUES ('format', ?), ('schema_version', ?), ('created_at', ?)",
                           arguments: [formatName, String(schemaVersion), String(SQLiteLog.nowMillis())])
            try ensureStoreID(db)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = \(schemaVersion)")
        }
    }

    /// Marks a store of an earlier schema version as this one's: called in the opening write transaction,
    /// once what changed has been moved. An older evtop then refuses the store as a newer one rather than
    /// misread what moved (a span's correlation reference read as text).
    static func markCurrentVersion(_ db: Database) throws {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = 'schema_version'").flatMap { Int($0) } ?? 0
        guard stored < schemaVersion else { return }
        try db.execute(sql: "UPDATE evtop_meta SET value = ? WHERE key = 'schema_version'", arguments: [String(schemaVersion)])
        try db.execute(sql: "PRAGMA user_version = \(schemaVersion)")
    }

    /// The store's id: a UUID written once in `evtop_meta.store_id`, when the store is created or first
    /// opened for writing by an evtop that knows it. Its redrive journal is named after it, so every path
    /// that reaches the file (a symlink, `..`, a hard link, a bind mount) finds the same journal.
    static func storeID(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM evtop_meta WHERE key = 'store_id'")
    }

    /// Gives a store written by an older evtop its id. Must run inside a write transaction.
    static func ensureStoreID(_ db: Database) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO evtop_meta(key, value) VALUES ('store_id', ?)",
                       arguments: [UUID().uuidString.lowercased()])
    }
}
