import EmbeddedStore
import EventModel
import Foundation
import Synchronization
import XCTest

/// Opening files that are not healthy evtop stores: the right error, and the file left as it was.
final class StoreFileTests: StoreTestCase {
    private func makeStore(_ p: String) async throws {
        let log = try SQLiteLog(path: p)
        try await log.createTopic("t", partitions: 2)
        try await log.produce((0..<200).map { record("t", key: "k\($0)", value: String(repeating: "x", count: 500)) })
    }

    /// Opens `p` in both modes, expecting `expected`, and checks the file did not change.
    private func assertRefused(_ p: String, _ expected: StoreError, modes: [SQLiteLog.OpenMode] = [.readWrite, .readOnly],
                               file: StaticString = #filePath, line: UInt = #line) async throws {
        let before = try fingerprint(p)
        for mode in modes {
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
        try await assertRefused(p, .newerSchema(p, found: 7, supported: SQLiteLog.schemaVersion))
        XCTAssertEqual(StoreError.newerSchema(p, found: 7, supported: SQLiteLog.schemaVersion).description.contains("upgrade evtop"), true)

        // Only evtop_meta says so (header still 1): caught by the SQLite-level check.
        let q = path("future-meta.db")
        try await makeStore(q)
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE evtop_meta SET value = '3' WHERE key = 'schema_version'")
            c.commit(); c.close()
            """, [q])
        try await assertRefused(q, .newerSchema(q, found: 3, supported: SQLiteLog.schemaVersion))
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

    func testEmptyFileIsRefusedUntouchedInEveryMode() async throws {
        // Issue 16 item 7: a 0-byte file was refused read-only but turned into a store read-write.
        let p = path("empty.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data()))
        for mode in [SQLiteLog.OpenMode.readWrite, .readWriteExisting, .readOnly] {
            await assertThrows(StoreError.emptyFile(p)) { try SQLiteLog(path: p, mode: mode) }
            XCTAssertEqual(try fingerprint(p).size, 0, "mode \(mode)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["empty.db"])
        XCTAssertTrue(StoreError.emptyFile(p).description.contains("left it untouched"))

        // A SQLite database with no tables is someone's file too: refused, not initialised.
        let q = path("empty-sqlite.db")
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 0"); c.execute("VACUUM"); c.close()
            """, [q])
        XCTAssertGreaterThan(try fingerprint(q).size, 0)
        for mode in [SQLiteLog.OpenMode.readWrite, .readWriteExisting, .readOnly] {
            let before = try fingerprint(q)
            await assertThrows(StoreError.notAnEvtopStore(q)) { try SQLiteLog(path: q, mode: mode) }
            XCTAssertEqual(try fingerprint(q), before, "mode \(mode)")
        }
    }

    func testAStoreIsCreatedWholeAndOnlyWhereNoFileExists() async throws {
        let missing = path("missing.db")
        await assertThrows(StoreError.missing(missing)) { try SQLiteLog(path: missing, mode: .readWriteExisting) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])

        // Eight openers at once on a new path: one store, every one of them opens it, no temporary file stays.
        let p = path("new.db")
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do { _ = try SQLiteLog(path: p) } catch { failures.withLock { $0.append("\(error)") } }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        let log = try SQLiteLog(path: p, mode: .readWriteExisting)
        try await log.createTopic("t", partitions: 1)
        let names = try await log.snapshot().topics.map(\.name)
        XCTAssertEqual(names, ["t"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix("new.db") }
        XCTAssertEqual(left, [], "temporary files left behind")
    }

    func testHandEditedSchemaIsRefusedUntouched() async throws {
        // Issue 16 item 6: a store edited by hand was half-used (some commands worked, others wrote to it).
        let edits: [(String, String)] = [
            ("ALTER TABLE records DROP COLUMN value", "table records has no column value"),
            ("DROP TABLE partitions", "table partitions is missing"),
            ("ALTER TABLE topics ADD COLUMN owner TEXT NOT NULL DEFAULT 'x'", ""),
            ("ALTER TABLE group_members ADD COLUMN host TEXT", ""),
            ("ALTER TABLE span_correlations DROP COLUMN spans", "table span_correlations has no column spans"),
        ]
        for (i, (sql, detail)) in edits.enumerated() {
            let p = path("edited-\(i).db")
            try await makeStore(p)
            try python("""
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit(); c.close()
                """, [p, sql])
            if detail.isEmpty {
                // Columns added with a default (or nullable) harm nothing: still a store.
                XCTAssertNoThrow(try SQLiteLog(path: p, mode: .readWriteExisting), sql)
            } else {
                try await assertRefused(p, .unexpectedSchema(p, detail), modes: [.readWrite, .readWriteExisting, .readOnly])
            }
        }
        // A column every insert would have to name cannot be added to a table with rows by SQLite itself:
        // build that table by hand.
        let q = path("required-column.db")
        try await makeStore(q)
        try python("""
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("DROP TABLE group_members")
            c.execute("CREATE TABLE group_members(group_id TEXT NOT NULL, member TEXT NOT NULL, last_seen INTEGER NOT NULL, "
                      "host TEXT NOT NULL, PRIMARY KEY(group_id, member)) WITHOUT ROWID")
            c.commit(); c.close()
            """, [q])
        try await assertRefused(q, .unexpectedSchema(q, "table group_members has an unknown required column host"),
                                modes: [.readWrite, .readWriteExisting, .readOnly])
        XCTAssertTrue(StoreError.unexpectedSchema(q, "x").description.contains("left it untouched"))
        XCTAssertFalse(StoreError.unexpectedSchema(q, "x").description.contains("SELECT"))
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

    // MARK: - Files that cannot be written (issue 16 item 8)

    func testUnwritableStoreOpensReadOnlyAndRefusesWritingOpens() async throws {
        for folderWritable in [true, false] {
            let folder = dir.appendingPathComponent(folderWritable ? "writable" : "read-only").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let p = folder + "/store.db"
            try await makeStore(p)
            XCTAssertFalse(FileManager.default.fileExists(atPath: p + "-wal"))
            try await asUnprivilegedUser(owning: folder) { _ in
                chmod(p, 0o444)
                if !folderWritable { chmod(folder, 0o555) }
                defer { chmod(folder, 0o755) }
                let before = try fingerprint(p)
                for mode in [SQLiteLog.OpenMode.readWrite, .readWriteExisting] {
                    do {
                        _ = try SQLiteLog(path: p, mode: mode)
                        XCTFail("opened an unwritable store for writing (folder writable: \(folderWritable))")
                    } catch StoreError.notWritable(let path, let reason) {
                        XCTAssertEqual(path, p)
                        XCTAssertTrue(reason.contains("not writable (mode 444"), reason)
                    }
                }
                let log = try SQLiteLog(path: p, mode: .readOnly)
                let high = try await log.snapshot().topics.first?.totalHigh
                XCTAssertEqual(high, 200, "folder writable: \(folderWritable)")
                let got = try await log.fetch(topic: "t", partition: 0, from: 0, maxRecords: 2).count
                XCTAssertEqual(got, 2)
                await assertThrows(StoreError.readOnly(p)) { try await log.produce([self.record("t")]) }
                XCTAssertEqual(try fingerprint(p), before)
                if !folderWritable {
                    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["store.db"])
                }
            }
            XCTAssertTrue(StoreError.notWritable(p, "why").description.contains("is read-only: why"))
        }
    }

    func testWritableStoreInAReadOnlyFolderCannotBeWritten() async throws {
        let folder = dir.appendingPathComponent("locked").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let p = folder + "/store.db"
        try await makeStore(p)
        try await asUnprivilegedUser(owning: folder) { _ in
            chmod(folder, 0o555)
            defer { chmod(folder, 0o755) }
            do {
                _ = try SQLiteLog(path: p, mode: .readWriteExisting)
                XCTFail("opened a store for writing in a folder that cannot take its -wal")
            } catch StoreError.notWritable(_, let reason) {
                XCTAssertTrue(reason.contains("its folder"), reason)
            }
            XCTAssertNoThrow(try SQLiteLog(path: p, mode: .readOnly))
        }
    }

    /// Runs `body` as a user whom permission bits stop: this one when it is not root, else `nobody`
    /// (effective ids, restored afterwards; XCTest runs one test at a time). `folder` is given to that
    /// user first. Skips, saying why, when root has nobody to become.
    private func asUnprivilegedUser(owning folder: String, _ body: (uid_t) async throws -> Void) async throws {
        let euid = geteuid()
        guard euid == 0 else { return try await body(euid) }
        guard let entry = getpwnam("nobody") else {
            throw XCTSkip("running as root, where permission bits do not stop reads and writes, and there is no user 'nobody' to run as")
        }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        // The user must reach the folder and own it (and its files) like a user's own store.
        chmod(dir.path, 0o755)
        for item in [folder] + ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).map({ folder + "/" + $0 }) {
            chown(item, uid, gid)
        }
        guard setegid(gid) == 0, seteuid(uid) == 0 else { throw XCTSkip("cannot become 'nobody': \(String(cString: strerror(errno)))") }
        defer { seteuid(0); setegid(0) }
        try await body(uid)
    }

    // MARK: - A full disk (issue 16 item 9)

    func testFullDiskIsCalledFullNotCorrupt() async throws {
        let mount = try TmpfsMount(in: dir, bytes: 4 << 20)
        defer { mount.unmount() }
        let p = mount.path + "/store.db"
        try await makeStore(p)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p + "-wal"))
        let before = try fingerprint(p)
        mount.fill()
        for mode in [SQLiteLog.OpenMode.readWrite, .readWriteExisting, .readOnly] {
            await assertThrows(StoreError.diskFull(p)) { try SQLiteLog(path: p, mode: mode) }
        }
        XCTAssertEqual(try fingerprint(p), before)
        XCTAssertFalse(StoreError.diskFull(p).description.contains("backup"))
        XCTAssertTrue(StoreError.diskFull(p).description.contains("is full"))
        mount.unfill()
        let log = try SQLiteLog(path: p, mode: .readWriteExisting)
        let high = try await log.snapshot().topics.first?.totalHigh
        XCTAssertEqual(high, 200)
    }
}

/// A small tmpfs of our own, to fill up. Skips the test when mounting is not permitted (not root, or a
/// container without CAP_SYS_ADMIN): a full disk cannot be made otherwise without filling a real one.
final class TmpfsMount {
    let path: String
    private var filler: String { path + "/filler" }

    init(in dir: URL, bytes: Int) throws {
        path = dir.appendingPathComponent("tmpfs-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard geteuid() == 0 else { throw XCTSkip("mounting a small tmpfs to fill needs root") }
        let status = Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path])
        guard status == 0 else { throw XCTSkip("mount -t tmpfs is not permitted here (status \(status))") }
    }

    /// Writes a file until the file system has no byte left.
    func fill() {
        guard let handle = FileHandle(forWritingAtPath: filler) ?? {
            FileManager.default.createFile(atPath: filler, contents: nil)
            return FileHandle(forWritingAtPath: filler)
        }() else { return }
        let chunk = Data(count: 4096)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        try? handle.close()
    }

    func unfill() { unlink(filler) }

    func unmount() { _ = Self.run("/bin/umount", [path]) }

    private static func run(_ program: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
