import Foundation
import GRDB

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

        /// Creates options.
        public init(readOnly: Bool = false, busyTimeout: TimeInterval = 5, label: String,
                    maximumReaderCount: Int = 4, connectionPragmas: [String] = []) {
            self.readOnly = readOnly
            self.busyTimeout = busyTimeout
            self.label = label
            self.maximumReaderCount = maximumReaderCount
            self.connectionPragmas = connectionPragmas
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
        if !pragmas.isEmpty {
            config.prepareDatabase { db in
                for pragma in pragmas { try db.execute(sql: pragma) }
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
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
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in try Self.immediate(db, body) }
        } catch {
            throw translated(error)
        }
    }

    /// ``write(_:)`` for callers that are not async (blocks the calling thread).
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in try Self.immediate(db, body) }
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
