@testable import EmbeddedStore
import EventModel
import Foundation
import GRDB
import SQLiteSupport
import Synchronization
import XCTest

/// The one GRDB access helper, on real SQLite files: transactions, the busy timeout, and how each
/// failure (a full disk, a read-only file, a damaged file, a lock held too long) is reported.
final class SQLiteFileTests: StoreTestCase {
    private struct Refused: Error, Equatable {}

    /// A file whose database may not grow past `pages` pages: a full disk, as far as SQLite can tell.
    private func smallDisk(_ name: String, pages: Int = 16) throws -> (SQLiteFile, String) {
        let p = path(name)
        let file = try SQLiteFile(path: p, options: .init(label: "test", connectionPragmas: ["PRAGMA max_page_count = \(pages)"]))
        return (file, p)
    }

    /// Caps the database behind `pool`'s writer at its current size plus `spare` pages.
    private func fillDisk(_ pool: DatabasePool, spare: Int = 2) async throws {
        try await pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages + spare)")
        }
    }

    func testAFullDiskIsReportedAsSuchAndItsTransactionRolledBack() async throws {
        let (file, p) = try smallDisk("full.db")
        try await file.write { db in
            try db.execute(sql: "CREATE TABLE t(b BLOB)")
            try db.execute(sql: "INSERT INTO t VALUES (zeroblob(100))")
        }
        do {
            try await file.write { db in
                try db.execute(sql: "INSERT INTO t VALUES (zeroblob(10))")
                try db.execute(sql: "INSERT INTO t VALUES (zeroblob(1000000))")
            }
            XCTFail("a megabyte fitted in 16 pages")
        } catch let failure as SQLiteFailure {
            XCTAssertEqual(failure, .diskFull(path: p))
            XCTAssertTrue(failure.description.contains("'\(p)' is full"), failure.description)
            XCTAssertTrue(failure.reason.contains("full"), failure.reason)
        }
        let rows = try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        XCTAssertEqual(rows, 1, "the failed transaction's first insert stayed")
        try await file.write { db in try db.execute(sql: "INSERT INTO t VALUES (zeroblob(100))") }
        let after = try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        XCTAssertEqual(after, 2, "the file is usable again once the write fits")
    }

    func testTheBlockingCallsReportTheSameFailures() throws {
        let (file, p) = try smallDisk("full-sync.db")
        try file.write { db in try db.execute(sql: "CREATE TABLE t(b BLOB)") }
        XCTAssertThrowsError(try file.write { db in try db.execute(sql: "INSERT INTO t VALUES (zeroblob(1000000))") }) { error in
            XCTAssertEqual(error as? SQLiteFailure, .diskFull(path: p))
        }
        XCTAssertThrowsError(try file.read { db in try db.execute(sql: "SELECT * FROM missing_table") }) { error in
            guard case .failed(p, let detail)? = error as? SQLiteFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("missing_table"), detail)
        }
    }

    func testTheBodysOwnErrorPassesUnchangedAndRollsBack() async throws {
        let file = try SQLiteFile(path: path("own.db"), options: .init(label: "test"))
        try await file.write { db in try db.execute(sql: "CREATE TABLE t(x)") }
        do {
            try await file.write { db in
                try db.execute(sql: "INSERT INTO t VALUES (1)")
                throw Refused()
            }
            XCTFail("the body's error was swallowed")
        } catch {
            XCTAssertEqual(error as? Refused, Refused())
        }
        let rows = try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        XCTAssertEqual(rows, 0)
    }

    func testAValueOfTheWrongTypeIsCorruptAndReachesTheOwnerTranslated() async throws {
        struct Owned: Error, Equatable { var failure: SQLiteFailure }
        let p = path("typed.db")
        let file = try SQLiteFile(path: p, options: .init(label: "typed"), translate: { Owned(failure: $0) })
        try await file.write { db in try db.execute(sql: "CREATE TABLE t(n INTEGER); INSERT INTO t VALUES ('seven')") }
        do {
            _ = try await file.read { db in try Row.fetchAll(db, sql: "SELECT n FROM t").map { try $0.value(at: 0, of: p) as Int64 } }
            XCTFail("text was read as a number")
        } catch let owned as Owned {
            guard case .corrupt(p, let detail) = owned.failure else { return XCTFail("\(owned)") }
            XCTAssertTrue(detail.contains("column 0"), detail)
        }
        let named = try await file.read { db in try Row.fetchOne(db, sql: "SELECT n FROM t").map { try $0.value("n", of: p) as String } }
        XCTAssertEqual(named, "seven")
    }

    func testWritesThroughAReadOnlyOpenAreReadOnly() async throws {
        let p = path("ro.db")
        let writer = try SQLiteFile(path: p, options: .init(label: "rw"))
        try await writer.write { db in try db.execute(sql: "CREATE TABLE t(x)") }
        let reader = try SQLiteFile(path: p, options: .init(readOnly: true, label: "ro"))
        do {
            try await reader.write { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }
            XCTFail("a read-only open wrote")
        } catch let failure as SQLiteFailure {
            XCTAssertEqual(failure, .readOnly(path: p))
        }
        let rows = try await reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        XCTAssertEqual(rows, 0)
    }

    func testADamagedFileIsCorrupt() async throws {
        let p = path("damaged.db")
        do {
            // Rollback journal: every page lands in the main file when the queue closes.
            let queue = try DatabaseQueue(path: p)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE t(x)")
                for i in 0..<500 {
                    try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [String(repeating: "x", count: 100) + String(i)])
                }
            }
            try queue.close()
        }
        // Page 1 (the header and schema) stays; the table's pages become garbage.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 3 * 4096))
        try handle.close()

        let file = try SQLiteFile(path: p, options: .init(label: "damaged"))
        do {
            _ = try await file.read { db in try Int.fetchAll(db, sql: "SELECT length(x) FROM t") }
            XCTFail("a damaged table was read")
        } catch let failure as SQLiteFailure {
            guard case .corrupt(p, _) = failure else { return XCTFail("\(failure)") }
        }
    }

    func testAFileThatIsNoDatabaseIsCorrupt() async throws {
        let p = path("garbage.db")
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: p))
        do {
            let file = try SQLiteFile(path: p, options: .init(label: "garbage"))
            _ = try await file.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            XCTFail("garbage opened as a database")
        } catch let failure as SQLiteFailure {
            guard case .corrupt(p, let detail) = failure else { return XCTFail("\(failure)") }
            XCTAssertTrue(detail.contains("not a SQLite database"), detail)
        }
    }

    func testAFileInAMissingFolderCannotBeOpened() {
        let p = dir.appendingPathComponent("no/such/folder/x.db").path
        XCTAssertThrowsError(try SQLiteFile(path: p, options: .init(label: "missing"))) { error in
            guard case .cannotOpen(p, _)? = error as? SQLiteFailure else { return XCTFail("\(error)") }
        }
    }

    func testALockHeldPastTheBusyTimeoutIsBusyAndTheWriteSucceedsOnceItIsFreed() throws {
        let p = path("busy.db")
        let holder = try SQLiteFile(path: p, options: .init(label: "holder"))
        let waiter = try SQLiteFile(path: p, options: .init(busyTimeout: 0.2, label: "waiter"))
        try holder.write { db in try db.execute(sql: "CREATE TABLE t(x)") }
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        Thread {
            _ = try? holder.write { _ in
                locked.signal()
                release.wait()
            }
            finished.signal()
        }.start()
        locked.wait()
        XCTAssertThrowsError(try waiter.write { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }) { error in
            XCTAssertEqual(error as? SQLiteFailure, .busy(path: p, timeout: 0.2))
            XCTAssertTrue("\(error)".contains("stayed locked by another writer for more than 0.2 s"), "\(error)")
        }
        release.signal()
        finished.wait()
        try waiter.write { db in try db.execute(sql: "INSERT INTO t VALUES (1)") }
        XCTAssertEqual(try waiter.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }, 1)
    }

    // MARK: - What the store's files make of them

    func testTheStoreRefusesWritesOnAFullDiskAndKeepsItsWatermarks() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 1)
        try await log.produce([record("t")])
        try await fillDisk(log.file.pool)
        let big = record("t", value: String(repeating: "v", count: 1_000_000))
        await assertThrows(BrokerError.writeRefused(SQLiteFailure.diskFull(path: p).description)) {
            try await log.produce([big])
        }
        let high = try await log.watermarks(topic: "t").partitions.first?.high
        XCTAssertEqual(high, 1, "nothing of the refused batch was written")
        let read = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 10)
        XCTAssertEqual(read.count, 1, "the store still reads")
    }

    func testTheCorrelationIndexRefusesWritesOnAFullDisk() async throws {
        let p = path("index.db")
        let index = try CorrelationIndex(path: p)
        try await fillDisk(index.file.pool)
        let entries = (0..<20_000).map { i in
            CorrelationIndex.Entry(topic: "orders", partition: 0, offset: Int64(i), correlationID: "order-\(i)-" + String(repeating: "c", count: 40),
                                   timestampMillis: Int64(i), eventType: "OrderPlaced")
        }
        await assertThrows(BrokerError.writeRefused(SQLiteFailure.diskFull(path: p).description)) {
            try await index.apply(entries, cursors: [TopicPartition("orders", 0): 20_000])
        }
        let cursors = try await index.cursors()
        XCTAssertEqual(cursors, [:], "entries and cursor are written together or not at all")
    }

    func testTheStoreTranslatesEachKindOfFailure() {
        let busy = StoreError.translate(.busy(path: "/x/s.db", timeout: 5))
        XCTAssertEqual(busy as? BrokerError, .unavailable("'/x/s.db' stayed locked by another writer for more than 5 s; try again"))
        XCTAssertEqual(StoreError.translate(.readOnly(path: "/x/s.db")) as? StoreError, .readOnly("/x/s.db"))
        XCTAssertEqual(StoreError.translate(.corrupt(path: "/x/s.db", detail: "bad")) as? StoreError, .corrupt("/x/s.db", "bad"))
        XCTAssertEqual(StoreError.translate(.ioError(path: "/x/s.db", detail: "disk I/O error")) as? SQLiteFailure,
                       .ioError(path: "/x/s.db", detail: "disk I/O error"))
    }

    /// Every reader's page cache is memory the process keeps: only the writer gets a large one.
    func testWriterPragmasRunOnTheWriterAlone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-writer-pragmas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = try CorrelationIndex(path: dir.appendingPathComponent("index.sqlite").path)
        let writer = try index.file.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        let reader = try index.file.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        XCTAssertEqual(writer, -65_536)
        XCTAssertNotNil(reader)
        XCTAssertNotEqual(reader, -65_536)
    }

    /// Readers that overlap without a break keep SQLite from writing its WAL from the beginning again, so a
    /// busy writer's WAL grows whatever `journal_size_limit` says; with `walRestartBytes` the writer
    /// restarts it once it is past that size, and the limit cuts it back.
    func testOverlappingReadersDoNotLetTheWALGrowPastItsRestartSize() async throws {
        func largestWAL(restartBytes: Int64?, _ name: String, through link: String? = nil) async throws -> Int64 {
            let p = path(name)
            if let link { try FileManager.default.createSymbolicLink(atPath: path(link), withDestinationPath: p) }
            let file = try SQLiteFile(path: link.map { path($0) } ?? p, options: .init(label: "test", maximumReaderCount: 2,
                                                              connectionPragmas: ["PRAGMA journal_size_limit = 262144"],
                                                              walRestartBytes: restartBytes))
            try await file.write { db in try db.execute(sql: "CREATE TABLE t(b BLOB)") }
            // Two readers handing over: each holds its snapshot for 30 ms and then until the other has begun
            // a newer one, so there is no moment without a reader (left to chance, both sometimes let go at
            // once, and SQLite restarts the WAL then).
            let stop = Mutex(false)
            let newestSnapshot = Mutex(0)
            let readers = (0..<2).map { _ in
                Thread.detachNewThreadWithResult {
                    while !stop.withLock({ $0 }) {
                        try? file.read { db in
                            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM t")
                            let mine = newestSnapshot.withLock { n in n += 1; return n }
                            Thread.sleep(forTimeInterval: 0.03)
                            while newestSnapshot.withLock({ $0 }) == mine && !stop.withLock({ $0 }) {
                                Thread.sleep(forTimeInterval: 0.001)
                            }
                        }
                    }
                }
            }
            // 300 writes of 64 KiB (about 21 MB of WAL frames), at most 50 a second.
            var largest: Int64 = 0
            for _ in 0..<300 {
                try await file.write { db in try db.execute(sql: "INSERT INTO t VALUES (randomblob(65536))") }
                let size = (try? FileManager.default.attributesOfItem(atPath: p + "-wal")[.size] as? Int64) ?? 0
                largest = max(largest, size ?? 0)
                try await Task.sleep(for: .milliseconds(20))
            }
            stop.withLock { $0 = true }
            for r in readers { r.wait() }
            return largest
        }
        let unbounded = try await largestWAL(restartBytes: nil, "plain.db")
        // Through a symlink: the WAL is beside the file it points at, where SQLite puts it.
        let bounded = try await largestWAL(restartBytes: 1_048_576, "restarted.db", through: "link.db")
        // Nothing restarts the WAL: it holds every write. With restarts: at most the restart size plus what
        // is written between two looks (50 writes, 3.4 MB, a second; a restart a reader held off waits for the next).
        XCTAssertGreaterThan(unbounded, 15_000_000, "the readers let SQLite restart the WAL (at most \(unbounded) bytes): the test shows nothing otherwise")
        XCTAssertLessThan(bounded, 10_000_000, "restarted: \(bounded) bytes at most, against \(unbounded) without")
    }
}

private extension Thread {
    /// Runs `body` on a new thread; `wait()` on the result returns once it has finished.
    static func detachNewThreadWithResult(_ body: @escaping @Sendable () -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            body()
            group.leave()
        }
        return group
    }
}
