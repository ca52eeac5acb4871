import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// Opening files that are not healthy evtop stores: the right error, and the file left as it was.
final class StoreFileTests: StoreTestCase {
    private func makeStore(_ p: String) async throws {
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 2)
        try await log.produce((0..<200).map { record("t", key: "k\($0)", value: String(repeating: "x", count: 500)) })
    }

    /// Opens `p` in both modes, expecting `expected`, and checks the file did not change.
    private func assertRefused(_ p: String, _ expected: StoreError,
                               file: StaticString = #filePath, line: UInt = #line) async throws {
        let before = try fingerprint(p)
        for mode in [SQLiteLog.OpenMode.readWrite, .readOnly] {
            await assertThrows(expected, file: file, line: line) { try SQLiteLog(path: p, mode: mode) }
            XCTAssertEqual(try fingerprint(p), before, "file changed (mode \(mode))", file: file, line: line)
        }
    }

    func testForeignSQLiteFileIsRefusedUntouched() async throws {
        let p = path("other-app.db")
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)")
            c.executemany("INSERT INTO customers(name) VALUES (?)", [("n%d" % i,) for i in range(100)])
            c.commit()
            """, [p])
        try await assertRefused(p, .notAnEvtopStore(p))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p + "-wal"))

        // Same with a foreign application id and no tables at all.
        let q = path("other-app-id.db")
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA application_id = 1234"); c.commit()
            """, [q])
        try await assertRefused(q, .notAnEvtopStore(q))
    }

    func testRandomBytesAreRefusedUntouched() async throws {
        let p = path("random.db")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        try await assertRefused(p, .corrupt(p, "not a SQLite database (bad file header)"))

        // A valid SQLite header followed by garbage gets past the header check and fails in SQLite.
        let q = path("header-then-garbage.db")
        try await makeStore(q)
        var store = try Data(contentsOf: URL(fileURLWithPath: q))
        for i in 100..<store.count { store[i] = UInt8.random(in: 0...255, using: &generator) }
        try store.write(to: URL(fileURLWithPath: q))
        let before = try fingerprint(q)
        await assertThrowsCorrupt(q)
        XCTAssertEqual(try fingerprint(q), before)
    }

    func testNewerSchemaIsRefusedUntouched() async throws {
        let p = path("future.db")
        try await makeStore(p)
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE evtop_meta SET value = '7' WHERE key = 'schema_version'")
            c.execute("PRAGMA user_version = 7")
            c.commit(); c.close()
            """, [p])
        try await assertRefused(p, .newerSchema(p, found: 7, supported: 1))
        XCTAssertEqual(StoreError.newerSchema(p, found: 7, supported: 1).description.contains("upgrade evtop"), true)

        // Only evtop_meta says so (header still 1): caught by the SQLite-level check.
        let q = path("future-meta.db")
        try await makeStore(q)
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE evtop_meta SET value = '3' WHERE key = 'schema_version'")
            c.commit(); c.close()
            """, [q])
        try await assertRefused(q, .newerSchema(q, found: 3, supported: 1))
    }

    func testTruncatedStoreIsCorrupt() async throws {
        let p = path("truncated.db")
        try await makeStore(p)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p + "-wal"), "store should be checkpointed on close")
        let whole = try Data(contentsOf: URL(fileURLWithPath: p))
        XCTAssertGreaterThan(whole.count, 40_000)
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: p))
        let before = try fingerprint(p)
        await assertThrowsCorrupt(p)
        XCTAssertEqual(try fingerprint(p), before)
    }

    private func assertThrowsCorrupt(_ p: String, file: StaticString = #filePath, line: UInt = #line) async {
        for mode in [SQLiteLog.OpenMode.readWrite, .readOnly] {
            do {
                _ = try SQLiteLog(path: p, mode: mode)
                XCTFail("opened a damaged store", file: file, line: line)
            } catch StoreError.corrupt(let path, let detail) {
                XCTAssertEqual(path, p, file: file, line: line)
                XCTAssertFalse(detail.isEmpty, file: file, line: line)
            } catch {
                XCTFail("expected .corrupt, got \(error)", file: file, line: line)
            }
        }
    }

    func testEmptyFileBecomesAStoreInReadWriteMode() async throws {
        let p = path("empty.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data()))
        await assertThrows(StoreError.notAnEvtopStore(p)) { try SQLiteLog(path: p, mode: .readOnly) }
        XCTAssertEqual(try fingerprint(p).size, 0)
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 1)
        let got1 = try await log.snapshot().topics.map(\.name)
        XCTAssertEqual(got1, ["t"])
    }

    func testReadOnlyRefusesWritesAndCreatesNothing() async throws {
        let missing = path("missing.db")
        await assertThrows(StoreError.missing(missing)) { try SQLiteLog(path: missing, mode: .readOnly) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])

        let p = path()
        try await makeStore(p)
        let before = try fingerprint(p)
        let log = try SQLiteLog(path: p, mode: .readOnly)
        let snap = try await log.snapshot()
        XCTAssertEqual(snap.topics.first?.totalHigh, 200)
        let got2 = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 3).count
        XCTAssertEqual(got2, 3)
        XCTAssertEqual(try log.recordCount(), 200)
        await assertThrows(StoreError.readOnly(p)) { try await log.createTopic("new", partitions: 1) }
        await assertThrows(StoreError.readOnly(p)) { try await log.produce([self.record("t")]) }
        await assertThrows(StoreError.readOnly(p)) {
            try await log.commit(group: "g", member: "m", offsets: [TopicPartition("t", 0): 1])
        }
        await assertThrows(StoreError.readOnly(p)) { try await log.heartbeat(group: "g", member: "m") }
        await assertThrows(StoreError.readOnly(p)) { try await log.deleteRecords(topic: "t", partition: 0, before: 1) }
        XCTAssertEqual(try fingerprint(p).bytes, before.bytes)
        let got3 = try await log.snapshot().groups
        XCTAssertEqual(got3, [])
    }

    func testOpeningADirectoryOrAMissingDirectoryFails() async throws {
        await assertThrows(StoreError.cannotOpen(dir.path, "it is a directory")) { try SQLiteLog(path: self.dir.path) }
        let p = dir.appendingPathComponent("no/such/dir/store.db").path
        do {
            _ = try SQLiteLog(path: p)
            XCTFail("opened a store in a missing directory")
        } catch StoreError.cannotOpen(let path, _) {
            XCTAssertEqual(path, p)
        }
    }
}
