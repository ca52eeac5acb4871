import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// Store files that are not plain healthy stores, through the real binary, command by command: a schema
/// edited by hand, an empty file, a store that cannot be written, a full disk (issue 16 items 6 to 9).
/// Every command must say what is wrong in one clear line and leave the file's bytes as they were.
final class StoreFileEndToEndTests: XCTestCase {
    /// One command of the CLI on the store at a path.
    struct Command {
        var name: String
        var args: [String]
        /// True when it writes to the store (requeue, resume, replay, demo, collect).
        var writes: Bool
    }

    /// Every command that opens a store, reading ones first.
    static func commands(_ store: String) -> [Command] {
        let broker = ["--broker", "sqlite:" + store]
        return [
            Command(name: "topics", args: ["topics"] + broker, writes: false),
            Command(name: "topics --read-only", args: ["topics", "--read-only"] + broker, writes: false),
            Command(name: "lag", args: ["lag"] + broker, writes: false),
            Command(name: "snapshot", args: ["snapshot"] + broker, writes: false),
            Command(name: "dlq list", args: ["dlq", "list", "--dlq-topic", "orders.DLT"] + broker, writes: false),
            Command(name: "saga", args: ["saga"] + broker, writes: false),
            Command(name: "dlq requeue", args: ["dlq", "requeue", "--dlq-topic", "orders.DLT", "--yes"] + broker, writes: true),
            Command(name: "dlq resume", args: ["dlq", "resume"] + broker, writes: true),
            Command(name: "replay", args: ["replay", "--source-topic", "orders", "--target-topic", "orders.DLT", "--from-offset", "0",
                                           "--limit", "1", "--yes"] + broker, writes: true),
            Command(name: "demo", args: ["demo", "--headless", "--store", store, "--duration", "1", "--rate", "10", "--otlp", "off"],
                    writes: true),
            Command(name: "collect", args: ["collect", "--store", store, "--otlp", "127.0.0.1:0"], writes: true),
        ]
    }

    /// A store with `orders` (3 partitions) and `orders.DLT` (2) holding 20 Spring-style dead letters, closed
    /// (checkpointed: no -wal beside it).
    static func seed(_ path: String) async throws {
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let log = try SQLiteLog(path: path)
        try await log.createTopic("orders", partitions: 3)
        try await log.createTopic("orders.DLT", partitions: 2)
        typealias S = DeadLetterHeaderNames.Spring
        var letters: [OutgoingRecord] = []
        for i in 0..<20 {
            let headers = [RecordHeader(name: S.originalTopic, value: Array("orders".utf8)),
                           RecordHeader(name: S.originalPartition, value: be(Int32(i % 3))),
                           RecordHeader(name: S.originalOffset, value: be(Int64(i))),
                           RecordHeader(S.exceptionFQCN, "java.lang.IllegalStateException")]
            letters.append(OutgoingRecord(topic: "orders.DLT", partition: Int32(i % 2), timestampMillis: 1_700_000_000_000 + Int64(i),
                                          key: Array("k\(i)".utf8), headers: headers, value: Array("{\"i\":\(i)}".utf8)))
        }
        try await log.produce(letters)
        var orders: [OutgoingRecord] = []
        for i in 0..<10 {
            orders.append(OutgoingRecord(topic: "orders", partition: nil, timestampMillis: 1_700_000_000_000,
                                         key: Array("o\(i)".utf8), headers: [], value: Array("{}".utf8)))
        }
        try await log.produce(orders)
    }

    /// SHA-256 of a file's bytes, in hex.
    static func sha256(_ path: String) throws -> String {
        let result = try runProcess("/usr/bin/sha256sum", [path])
        guard result.status == 0, let hash = result.stdout.split(separator: " ").first else {
            throw XCTSkip("sha256sum failed on \(path): \(result.stderr)")
        }
        return String(hash)
    }

    /// Runs `command` and checks the store's bytes did not change; returns the result.
    @discardableResult
    func run(_ binary: String, _ command: Command, store: String, env: [String: String], as user: [String] = [],
             file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let before = try Self.sha256(store)
        let program = user.isEmpty ? binary : user[0]
        let args = user.isEmpty ? command.args : Array(user.dropFirst()) + [binary] + command.args
        // collect runs until stopped when it accepts the store: the bound ends it (the test then fails).
        let result = try runProcess(program, args, env: env, limit: 20)
        XCTAssertEqual(try Self.sha256(store), before, "\(command.name) changed the store's bytes; stderr: \(result.stderr)",
                       file: file, line: line)
        return result
    }

    /// Asserts that `command` failed with one line containing `expected` and no raw SQLite text.
    func assertRefused(_ result: RunResult, _ command: Command, saying expected: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, "\(command.name) accepted the store; stdout: \(result.stdout.suffix(300))", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "\(command.name): \(result.stderr)", file: file, line: line)
        for raw in ["no such column", "no such table", "SQLite failed", "disk I/O error", "restore it from a backup"] {
            XCTAssertFalse(result.stderr.contains(raw), "\(command.name) said '\(raw)': \(result.stderr)", file: file, line: line)
        }
    }

    /// Files beside `store` other than itself, its -wal and -shm (a journal, a lock folder).
    static func companions(_ store: String) throws -> [String] {
        let folder = (store as NSString).deletingLastPathComponent, name = (store as NSString).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix(name) && ![name, name + "-wal", name + "-shm"].contains($0) }
    }

    /// Redrive journals in the sandbox's state folder (where they live since stores have ids).
    static func journals(_ sandbox: Sandbox) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: sandbox.path("state") + "/evtop/redrive")) ?? []
    }

    // MARK: - Item 6: a schema edited by hand

    func testHandEditedStoreIsRefusedByEveryCommandUntouched() async throws {
        let binary = try evtopBinary()
        let sandbox = try Sandbox()
        for (name, sql, detail) in [("dropped-column", "ALTER TABLE records DROP COLUMN value", "table records has no column value"),
                                    ("dropped-table", "DROP TABLE partitions", "table partitions is missing")] {
            let store = sandbox.path(name + ".db")
            try await Self.seed(store)
            let edit = try runProcess("/usr/bin/python3", ["-c", """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit(); c.close()
                """, store, sql])
            XCTAssertEqual(edit.status, 0, edit.stderr)
            for command in Self.commands(store) {
                let result = try run(binary, command, store: store, env: sandbox.environment)
                assertRefused(result, command, saying: "not an evtop store as this evtop knows it (\(detail)")
            }
            XCTAssertEqual(try Self.companions(store), [], "a journal was made for a refused store")
            XCTAssertEqual(Self.journals(sandbox), [], "a journal was made for a refused store")
        }
    }

    // MARK: - Item 7: an empty file

    func testEmptyFileIsRefusedByEveryCommandAndNeverBecomesAStore() async throws {
        let binary = try evtopBinary()
        let sandbox = try Sandbox()
        let store = sandbox.path("empty.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: store, contents: Data()))
        for command in Self.commands(store) {
            let result = try run(binary, command, store: store, env: sandbox.environment)
            assertRefused(result, command, saying: "is an empty file, not an evtop store")
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: store)[.size] as? Int, 0, command.name)
        }
        XCTAssertEqual(try Self.companions(store), [], "a journal was made for a refused file")
        XCTAssertEqual(Self.journals(sandbox), [], "a journal was made for a refused file")

        // A missing file is created by demo and collect only.
        let missing = sandbox.path("missing.db")
        for command in Self.commands(missing) where !["demo", "collect"].contains(command.name) {
            let result = try runProcess(binary, command.args, env: sandbox.environment, limit: 20)
            XCTAssertNotEqual(result.status, 0, command.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "\(command.name) created a store")
        }
        let demo = try runProcess(binary, Self.commands(missing).first { $0.name == "demo" }?.args ?? [], env: sandbox.environment, limit: 30)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let topics = try runProcess(binary, ["topics", "--broker", "sqlite:" + missing], env: sandbox.environment)
        XCTAssertEqual(topics.status, 0, topics.stderr)
        XCTAssertTrue(topics.stdout.contains("orders"), topics.stdout)
    }

    // MARK: - Item 8: a store that cannot be written

    /// The command prefix that runs a program as a user whom permission bits stop: none when this
    /// process is not root, else `setpriv` to `nobody`. Skips, saying why, when there is no such user.
    static func unprivilegedPrefix() throws -> (prefix: [String], uid: uid_t, gid: gid_t) {
        guard geteuid() == 0 else { return ([], geteuid(), getegid()) }
        guard let entry = getpwnam("nobody") else {
            throw XCTSkip("running as root, where permission bits do not stop reads and writes, and there is no user 'nobody' to run as")
        }
        guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("running as root, where permission bits do not stop reads and writes, and setpriv is not installed to drop to 'nobody'")
        }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        return ([setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups"], uid, gid)
    }

    /// Gives the sandbox (and so the store) to `uid`, recursively.
    static func give(_ root: URL, to uid: uid_t, _ gid: gid_t) {
        chown(root.path, uid, gid)
        guard let items = FileManager.default.enumerator(atPath: root.path) else { return }
        for case let item as String in items { chown(root.appendingPathComponent(item).path, uid, gid) }
    }

    func testUnwritableStoreIsReadByReadingCommandsAndRefusedByWritingOnes() async throws {
        let binary = try evtopBinary()
        let (user, uid, gid) = try Self.unprivilegedPrefix()
        let sandbox = try Sandbox()
        for folderWritable in [true, false] {
            let folder = sandbox.root.appendingPathComponent(folderWritable ? "writable" : "read-only")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let store = folder.appendingPathComponent("store.db").path
            try await Self.seed(store)
            XCTAssertFalse(FileManager.default.fileExists(atPath: store + "-wal"))
            Self.give(sandbox.root, to: uid, gid)
            chmod(store, 0o444)
            if !folderWritable { chmod(folder.path, 0o555) }
            defer { chmod(folder.path, 0o755) }
            let place = folderWritable ? "444 store in a writable folder" : "444 store in a 555 folder"
            for command in Self.commands(store) {
                let result = try run(binary, command, store: store, env: sandbox.environment, as: user)
                if command.writes {
                    assertRefused(result, command, saying: "is read-only: the file is not writable (mode 444")
                } else {
                    XCTAssertEqual(result.status, 0, "\(place): \(command.name): \(result.stderr)")
                    XCTAssertFalse(result.stdout.isEmpty, "\(place): \(command.name)")
                }
            }
            let topics = try runProcess(user.first ?? binary, Array(user.dropFirst()) + [binary, "topics", "--broker", "sqlite:" + store],
                                        env: sandbox.environment)
            XCTAssertTrue(topics.stdout.contains("orders.DLT"), "\(place): \(topics.stdout)")
            if !folderWritable {
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["store.db"])
            }
        }
    }

    func testDashboardOpensAnUnwritableStoreReadOnlyAndSaysSo() async throws {
        let binary = try evtopBinary()
        let (user, uid, gid) = try Self.unprivilegedPrefix()
        let sandbox = try Sandbox()
        let folder = sandbox.root.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = folder.appendingPathComponent("store.db").path
        try await Self.seed(store)
        Self.give(sandbox.root, to: uid, gid)
        chmod(store, 0o444)
        chmod(folder.path, 0o555)
        defer { chmod(folder.path, 0o755) }
        let before = try Self.sha256(store)
        let command = (user + [binary, "--broker", "sqlite:" + store, "--otlp", "off"]).joined(separator: " ")
        let tmux = try TmuxSession(width: 160, height: 30, command: command, env: sandbox.environment)
        let screen = tmux.waitFor("the dashboard on the read-only store") { $0.contains("orders.DLT") && $0.contains("READ-ONLY") }
        XCTAssertTrue(screen?.contains("is read-only") ?? false, screen ?? "")
        tmux.send(literal: "q")
        tmux.waitFor("the dashboard to quit") { $0.contains("$ ") && !$0.contains("READ-ONLY") }
        XCTAssertEqual(try Self.sha256(store), before)
    }

    // MARK: - Item 9: a full disk

    func testFullDiskIsCalledFullByEveryCommand() async throws {
        let binary = try evtopBinary()
        guard geteuid() == 0 else { throw XCTSkip("mounting a small tmpfs to fill needs root") }
        let sandbox = try Sandbox()
        let mount = sandbox.path("tmpfs")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let mounted = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount])
        guard mounted.status == 0 else { throw XCTSkip("mount -t tmpfs is not permitted here: \(mounted.stderr)") }
        defer { _ = try? runProcess("/bin/umount", [mount]) }
        let store = mount + "/store.db"
        try await Self.seed(store)
        // Fill what is left, to the last byte.
        let filler = mount + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        if let handle = FileHandle(forWritingAtPath: filler) {
            let chunk = Data(count: 4096)
            while (try? handle.write(contentsOf: chunk)) != nil {}
            try? handle.close()
        }
        for command in Self.commands(store) {
            let result = try run(binary, command, store: store, env: sandbox.environment)
            assertRefused(result, command, saying: "the disk holding '\(store)' is full")
        }
        unlink(filler)
        let check = try runProcess("/usr/bin/python3", ["-c", """
            import sqlite3, sys
            print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])
            """, store])
        XCTAssertEqual(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "ok", check.stderr)
    }
}
