import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// One SQLite file in WAL mode, reached the way every evtop file (store, correlation index, redrive
/// journal) is: a connection pool, writes in IMMEDIATE transactions that wait up to a busy timeout for
/// the write lock, and every SQLite error classified as a ``SQLiteFailure`` and handed to the owner's
/// `translate` to become its own operator-readable error. Errors the body throws itself pass unchanged.
public final class SQLiteFile: Sendable {
    /// How a file is opened.
    public struct Options: Sendable {
        /// Never writes; every write fails with ``SQLiteFailure/readOnly(path:)`` (translated).
        public var readOnly: Bool
        /// How long a write waits for another connection or process holding the write lock (seconds).
        public var busyTimeout: TimeInterval
        /// The pool's label (shows in GRDB's diagnostics and thread names).
        public var label: String
        /// Concurrent readers at most.
        public var maximumReaderCount: Int
        /// Statements run on every new connection (`PRAGMA`s); a read-only open runs them too.
        public var connectionPragmas: [String]
        /// Statements run on the writer connection only (a large `cache_size` that readers doing a few
        /// lookups do not need: every connection's cache is memory the process keeps).
        public var writerPragmas: [String]
        /// With `readOnly`: open the file as `immutable` (SQLite's URI parameter), creating no `-wal` or
        /// `-shm` beside it and taking no locks. Only for a file nobody can be writing, see
        /// ``SQLiteFile/mustOpenImmutable(_:)``.
        public var immutable: Bool
        /// When the `-wal` file has grown past this many bytes, the writer restarts it after a write
        /// (``SQLiteFile/restartWALIfLarge(_:)``); nil leaves it to SQLite's own checkpoints.
        public var walRestartBytes: Int64?

        /// Creates options.
        public init(readOnly: Bool = false, busyTimeout: TimeInterval = 5, label: String,
                    maximumReaderCount: Int = 4, connectionPragmas: [String] = [], writerPragmas: [String] = [],
                    immutable: Bool = false, walRestartBytes: Int64? = nil) {
            self.readOnly = readOnly
            self.busyTimeout = busyTimeout
            self.label = label
            self.maximumReaderCount = maximumReaderCount
            self.connectionPragmas = connectionPragmas
            self.writerPragmas = writerPragmas
            self.immutable = immutable
            self.walRestartBytes = walRestartBytes
        }
    }

    /// The file's path as given.
    public let path: String
    /// How it was opened.
    public let options: Options
    /// The pool itself, for what the methods here do not cover. Prefer ``read(_:)`` and ``write(_:)``:
    /// errors from the pool directly are not translated.
    public let pool: DatabasePool
    private let translate: @Sendable (SQLiteFailure) -> any Error
    /// When the WAL's size was last looked at after a write.
    private let walLookedAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Opens (creating when missing, unless read-only) the file at `path`.
    ///
    /// - Parameter translate: turns a failure into the owner's error; by default the failure itself.
    public init(path: String, options: Options,
                translate: @escaping @Sendable (SQLiteFailure) -> any Error = { $0 }) throws {
        self.path = path
        self.options = options
        self.translate = translate
        var config = Configuration()
        config.readonly = options.readOnly
        config.busyMode = .timeout(options.busyTimeout)
        config.label = options.label
        config.maximumReaderCount = max(1, options.maximumReaderCount)
        let pragmas = options.connectionPragmas
        let writerPragmas = options.readOnly ? [] : options.writerPragmas
        if !pragmas.isEmpty || !writerPragmas.isEmpty {
            config.prepareDatabase { db in
                for pragma in pragmas { try db.execute(sql: pragma) }
                // A pool's readers are opened read-only; its one writer is not.
                if !db.configuration.readonly {
                    for pragma in writerPragmas { try db.execute(sql: pragma) }
                }
            }
        }
        do {
            let target = options.readOnly && options.immutable ? Self.immutableURI(path) : path
            pool = try DatabasePool(path: target, configuration: config)
        } catch let error as DatabaseError {
            throw translate(SQLiteFailure(error, path: path, busyTimeout: options.busyTimeout))
        }
    }

    /// The failure an error from SQLite stands for (or a ``SQLiteFailure`` a body threw, such as
    /// `Row.value(at:of:)`'s), translated; other errors unchanged.
    public func translated(_ error: any Error) -> any Error {
        if let failure = error as? SQLiteFailure { return translate(failure) }
        guard let error = error as? DatabaseError else { return error }
        return translate(SQLiteFailure(error, path: path, busyTimeout: options.busyTimeout))
    }

    // MARK: - Writing

    /// Runs `body` in one IMMEDIATE transaction on the writer connection and commits it; a throw rolls it back.
    ///
    /// IMMEDIATE takes the write lock up front, so the busy timeout applies: a deferred transaction
    /// that turns into a write could fail at once with `SQLITE_BUSY` when another process writes.
    /// After the commit, a WAL past ``Options/walRestartBytes`` is restarted (``restartWALIfLarge(_:)``),
    /// which can hold the call up to ``walRestartWait`` and the time to copy the WAL into the file.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                let result = try Self.immediate(db, body)
                restartWALIfLarge(db)
                return result
            }
        } catch {
            throw translated(error)
        }
    }

    /// ``write(_:)`` for callers that are not async (blocks the calling thread).
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                let result = try Self.immediate(db, body)
                restartWALIfLarge(db)
                return result
            }
        } catch {
            throw translated(error)
        }
    }

    // MARK: - Reading

    /// Runs `body` on a reader connection, in a snapshot of the file (never blocked by writers).
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw translated(error)
        }
    }

    /// ``read(_:)`` for callers that are not async (blocks the calling thread).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw translated(error)
        }
    }

    // MARK: - Closing

    /// Folds the WAL back into the file and closes every connection, so that a writer that ends leaves
    /// no `-wal` content behind (SQLite's own close-time checkpoint needs the last connection to close to
    /// be one that can write, which a pool closing its writer first never is). A checkpoint that cannot
    /// truncate (another process is reading) copies what it can and leaves the rest to the next writer.
    /// Idempotent; reads and writes after it fail.
    public func close() {
        if !options.readOnly {
            _ = try? pool.writeWithoutTransaction { db in
                if (try? db.checkpoint(.truncate)) == nil { _ = try? db.checkpoint(.passive) }
            }
        }
        try? pool.close()
    }

    // MARK: - Files that cannot be written

    /// Why the file at `path` cannot be written by this process, or nil when it can: the file itself is
    /// not writable (permissions, a read-only file system), or its folder is not, where SQLite must
    /// create the `-wal` and `-shm` files of a WAL database.
    public static func writeBlocker(_ path: String) -> String? {
        // As this process's effective user (AT_EACCESS), which is who SQLite opens the files as.
        func writable(_ p: String, _ mode: Int32) -> Bool { faccessat(AT_FDCWD, p, mode, AT_EACCESS) == 0 }
        if !writable(path, W_OK) {
            return errno == EROFS ? "it is on a read-only file system" : "the file is not writable (\(permissions(path)))"
        }
        let folder = parent(of: path)
        if !writable(folder, W_OK | X_OK) {
            if errno == EROFS { return "it is on a read-only file system" }
            // An open writer's -wal and -shm are enough; after a clean close they are gone and must be made again.
            let siblingsWritable = ["-wal", "-shm"].allSatisfy { writable(path + $0, W_OK) }
            if !siblingsWritable {
                return "its folder \(folder) is not writable (\(permissions(folder))), and SQLite keeps its -wal and -shm files there"
            }
        }
        return nil
    }

    /// True when a read-only open of the WAL file at `path` must be `immutable`: SQLite cannot create the
    /// `-shm` file it needs (the folder is not writable) and none exists. No other process can be writing
    /// the file then either, since a writer would need the same `-wal` and `-shm` files.
    public static func mustOpenImmutable(_ path: String) -> Bool {
        if FileManager.default.fileExists(atPath: path + "-shm") { return false }
        return faccessat(AT_FDCWD, parent(of: path), W_OK | X_OK, AT_EACCESS) != 0
    }

    /// `path` as a `file:` URI with `immutable=1` (the system SQLite is built with URI filenames on).
    public static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var encoded = ""
        for c in absolute {
            switch c {
            case "%": encoded += "%25"
            case "?": encoded += "%3f"
            case "#": encoded += "%23"
            default: encoded.append(c)
            }
        }
        return "file://" + encoded + "?immutable=1"
    }

    /// The folder holding `path` ("." for a bare name).
    static func parent(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// `mode 444, owner uid 0` for the message saying why a file cannot be written.
    private static func permissions(_ path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return String(cString: strerror(errno)) }
        return "mode " + String(st.st_mode & 0o777, radix: 8) + ", owner uid \(st.st_uid)"
    }

    // MARK: - The WAL's size

    /// Restarts the WAL when it has grown past ``Options/walRestartBytes``; looks at most once a second.
    ///
    /// SQLite's own checkpoints copy the WAL into the file but write it from the beginning again only at a
    /// moment no reader is using it. Readers that overlap without a break (a dashboard, an indexer, a
    /// writer's own reads, other processes) can hold that moment off for minutes while a busy writer appends:
    /// the file then grows far past `journal_size_limit`. `wal_checkpoint(RESTART)` waits for the readers of
    /// the moment to finish (evtop's reads take milliseconds), so the next write starts at the beginning and
    /// the limit cuts the file back. It waits ``walRestartWait`` at most, holding the write lock meanwhile;
    /// a reader that holds on longer (a long export) is left for the next look.
    func restartWALIfLarge(_ db: Database) {
        guard let limit = options.walRestartBytes else { return }
        let now = ContinuousClock.now
        let due = walLookedAt.withLock { last -> Bool in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
        guard due else { return }
        let connection = db.sqliteConnection
        // SQLite's own name for it: beside the file a symlink points at, not beside the link.
        guard let file = sqlite3_db_filename(connection, "main"), let wal = sqlite3_filename_wal(file) else { return }
        var st = stat()
        guard stat(wal, &st) == 0, Int64(st.st_size) > limit else { return }
        sqlite3_busy_timeout(connection, Int32(Self.walRestartWait * 1000))
        defer { sqlite3_busy_timeout(connection, Int32(options.busyTimeout * 1000)) }
        _ = try? db.execute(sql: "PRAGMA wal_checkpoint(RESTART)")
    }

    /// Seconds a WAL restart waits for readers at most.
    static let walRestartWait: TimeInterval = 0.25

    // MARK: - Internals

    private static func immediate<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.beginTransaction(.immediate)
        let result: T
        do {
            result = try body(db)
            try db.commit()
        } catch {
            // A failed COMMIT (a full disk) can leave the transaction open: end it, keep the first error.
            if db.isInsideTransaction { try? db.rollback() }
            throw error
        }
        return result
    }
}
