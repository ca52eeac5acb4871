import Foundation
import XCTest

/// The non-interactive commands, run as processes: what scripts and CI jobs see.
final class CLIEndToEndTests: XCTestCase {
    /// A headless demo writing in one process while other processes read the same file.
    func testTopicsJSONWhileHeadlessDemoWrites() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("shared.db")
        let demo = try startHeadlessDemo(binary, store: store, rate: 50, seconds: 40, env: box.environment)
        defer { demo.stop() }

        // Poll until the reader, a second process, sees data flowing.
        var topics: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            let r = try runProcess(binary, ["topics", "--broker", "sqlite:" + store, "--json", "--interval", "1"], env: box.environment)
            if r.status == 0, let data = r.stdout.data(using: .utf8),
               let parsed = try JSONSerialization.jsonObject(with: data) as? [[String: Any]],
               parsed.contains(where: { ($0["topic"] as? String) == "orders" && (($0["ratePerSecond"] as? Double) ?? 0) > 0 }) {
                topics = parsed
                break
            }
            usleep(300_000)
        }
        XCTAssertFalse(topics.isEmpty, "topics --json never showed a producing orders topic")
        let names = Set(topics.compactMap { $0["topic"] as? String })
        XCTAssertTrue(names.isSuperset(of: ["orders", "payments", "inventory", "shipments"]), "\(names)")
        XCTAssertTrue(topics.contains { ($0["deadLetterQueue"] as? Bool) == true })
        // One rate, over the window actually measured (about --interval), never three copies of it.
        let orders = try XCTUnwrap(topics.first { ($0["topic"] as? String) == "orders" })
        // At least the interval; more by however long the two snapshots took on a loaded machine.
        let window = try XCTUnwrap(orders["rateWindowSeconds"] as? Double)
        XCTAssertTrue((0.9...2) ~= window, "rate window \(window) s for --interval 1")
        XCTAssertNil(orders["rate10s"])
        XCTAssertNil(orders["rate60s"])

        let text = try runProcess(binary, ["topics", "--broker", "sqlite:" + store, "--interval", "0"], env: box.environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.hasPrefix("TOPIC"), text.stdout)

        let snap = try runProcess(binary, ["snapshot", "--view", "topics", "--width", "80", "--height", "24",
                                           "--broker", "sqlite:" + store], env: box.environment)
        XCTAssertEqual(snap.status, 0, snap.stderr)
        let lines = snap.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 25, "24 rows and a final newline:\n\(snap.stdout)")
        XCTAssertTrue(lines[0].contains("evtop"))
        XCTAssertTrue(snap.stdout.contains("orders"))
    }

    /// Issue 14 item 15: `evtop demo --headless > file` writes its progress lines while it runs, not when it
    /// exits: a line is read from the file while the process is still running. Then item 11: `evtop snapshot`
    /// takes `--theme` as the dashboard does (a known theme renders, an unknown one fails naming the choices).
    func testHeadlessDemoWritesProgressToAFileWhileItRuns() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("progress.db")
        let out = box.path("demo.out")
        XCTAssertTrue(FileManager.default.createFile(atPath: out, contents: nil))
        let file = try XCTUnwrap(FileHandle(forWritingAtPath: out))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["demo", "--headless", "--store", store, "--rate", "20", "--duration", "600", "--otlp", "off"]
        p.environment = ProcessInfo.processInfo.environment.merging(box.environment) { $1 }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = file
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() }; p.waitUntilExit() }
        try file.close()

        var progress: String?
        let deadline = Date().addingTimeInterval(120)
        while progress == nil, p.isRunning, Date() < deadline {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            progress = text.split(separator: "\n").first { $0.hasPrefix("orders ") && $0.contains(" events ") }.map(String.init)
            if progress == nil { usleep(200_000) }
        }
        let written = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertNotNil(progress, "no progress line in the file while the demo ran:\n\(written)")
        XCTAssertTrue(p.isRunning, "the line must be there before the demo exits")

        let themed = try runProcess(binary, ["snapshot", "--view", "topics", "--width", "80", "--height", "24", "--interval", "0",
                                             "--theme", "light", "--broker", "sqlite:" + store], env: box.environment)
        XCTAssertEqual(themed.status, 0, themed.stderr)
        XCTAssertTrue(themed.stdout.contains("orders"), themed.stdout)
        let unknown = try runProcess(binary, ["snapshot", "--view", "topics", "--interval", "0", "--theme", "no-such-theme",
                                              "--broker", "sqlite:" + store], env: box.environment)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no theme named 'no-such-theme'") && unknown.stderr.contains("light"), unknown.stderr)
    }

    /// `evtop demo --faults`: a bad name is refused with the valid ones named; the headless progress line
    /// counts the injected faults, and `--faults none` injects none.
    func testDemoFaultsAreValidatedAndCounted() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        for bad in ["dupes", "duplicates,,fat-events"] {
            let r = try runProcess(binary, ["demo", "--headless", "--store", box.path("bad.db"), "--faults", bad], env: box.environment)
            XCTAssertEqual(r.status, 64, r.stderr)
            for name in ["all", "none", "duplicates", "command-events", "schema-drift", "fat-events"] {
                XCTAssertTrue(r.stderr.contains(name), "\(bad): \(r.stderr)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.path("bad.db")), "a refused demo writes no store")
        let on = try runProcess(binary, ["demo", "--headless", "--store", box.path("on.db"), "--rate", "50", "--duration", "6", "--otlp", "off"],
                                env: box.environment)
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertTrue(on.stdout.contains("faults duplicates "), on.stdout)
        XCTAssertTrue(on.stdout.contains("command-events ") && on.stdout.contains("schema-drift "), on.stdout)
        let off = try runProcess(binary, ["demo", "--headless", "--store", box.path("off.db"), "--rate", "50", "--duration", "6", "--otlp", "off",
                                          "--faults", "none"], env: box.environment)
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertTrue(off.stdout.contains("orders "), off.stdout)
        XCTAssertFalse(off.stdout.contains("faults"), off.stdout)
        let some = try runProcess(binary, ["demo", "--headless", "--store", box.path("some.db"), "--rate", "50", "--duration", "6", "--otlp", "off",
                                           "--faults", "schema-drift"], env: box.environment)
        XCTAssertEqual(some.status, 0, some.stderr)
        XCTAssertTrue(some.stdout.contains("faults schema-drift "), some.stdout)
        XCTAssertFalse(some.stdout.contains("duplicates") || some.stdout.contains("command-events"), some.stdout)
    }

    func testBadBrokerURLsGiveClearErrors() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cases: [(String, String)] = [
            ("foo://x", "unknown scheme 'foo'"),
            ("kafka://", "no bootstrap servers"),
            ("kafka://host:notaport", "is not host:port"),
            ("/tmp/x.db", "no scheme"),
            ("sqlite:", "no file path"),
        ]
        for (url, expected) in cases {
            let r = try runProcess(binary, ["topics", "--broker", url, "--interval", "0"], env: box.environment)
            XCTAssertNotEqual(r.status, 0, url)
            XCTAssertTrue(r.stderr.contains(expected), "\(url): \(r.stderr)")
        }
    }

    func testCorruptAndForeignStoresAreRefusedUntouched() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let corrupt = box.path("corrupt.db")
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        try garbage.write(to: URL(fileURLWithPath: corrupt))
        let r = try runProcess(binary, ["topics", "--broker", "sqlite:" + corrupt, "--interval", "0"], env: box.environment)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(corrupt), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: corrupt)), garbage, "the corrupt file was changed")

        let missing = box.path("missing.db")
        let m = try runProcess(binary, ["topics", "--broker", "sqlite:" + missing, "--interval", "0"], env: box.environment)
        XCTAssertNotEqual(m.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "a read-only command created a store")
    }

    func testMalformedConfigNamesFileAndLine() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let dir = box.environment["XDG_CONFIG_HOME"]! + "/evtop"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "contexts:\n  local:\n    broker: sqlite:/tmp/x.db\n    brokr: typo\n".write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        let r = try runProcess(binary, ["topics", "--interval", "0"], env: box.environment)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("config.yaml:4"), r.stderr)
        XCTAssertTrue(r.stderr.contains("brokr"), r.stderr)
    }

    func testContextFromConfigIsUsed() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("ctx.db")
        _ = try runProcess(binary, ["demo", "--headless", "--store", store, "--duration", "2"], env: box.environment)
        let dir = box.environment["XDG_CONFIG_HOME"]! + "/evtop"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "default-context: demo\ncontexts:\n  demo:\n    broker: sqlite:\(store)\n  other:\n    broker: sqlite:/nonexistent/x.db\n"
            .write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        let r = try runProcess(binary, ["topics", "--interval", "0"], env: box.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("orders"), r.stdout)
        let other = try runProcess(binary, ["topics", "--interval", "0", "--context", "other"], env: box.environment)
        XCTAssertNotEqual(other.status, 0)
        let unknown = try runProcess(binary, ["topics", "--context", "nope"], env: box.environment)
        XCTAssertTrue(unknown.stderr.contains("no context named 'nope'"), unknown.stderr)
    }

    /// `evtop lag --json` on a live demo: every demo group evaluated, and the exit code is the worst status.
    func testLagJSONExitCodeMatchesWorstStatus() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("lag.db")
        let demo = try startHeadlessDemo(binary, store: store, rate: 40, seconds: 60, env: box.environment)
        defer { demo.stop() }
        var groups: [[String: Any]] = []
        var status: Int32 = -1
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline && groups.count < 4 {
            let r = try runProcess(binary, ["lag", "--broker", "sqlite:" + store, "--json", "--window", "3"], env: box.environment)
            status = r.status
            groups = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
        }
        let ids = Set(groups.compactMap { $0["group"] as? String })
        XCTAssertEqual(ids, ["order-service", "payment-service", "inventory-service", "shipping-service"])
        let worst = groups.compactMap { $0["status"] as? String }.map { s -> Int32 in
            s == "OK" ? 0 : (s == "WARN" ? 1 : 2)
        }.max() ?? -1
        XCTAssertEqual(status, worst, "exit status must be the worst group status")
        for g in groups {
            XCTAssertNotNil(g["totalLag"] as? Int, "\(g)")
            XCTAssertFalse((g["partitions"] as? [Any] ?? []).isEmpty, "\(g)")
        }
        let unknown = try runProcess(binary, ["lag", "--broker", "sqlite:" + store, "--group", "nope", "--window", "0"], env: box.environment)
        XCTAssertEqual(unknown.status, 3, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("no consumer group 'nope'"), unknown.stderr)
        let table = try runProcess(binary, ["lag", "--broker", "sqlite:" + store, "--window", "0"], env: box.environment)
        XCTAssertTrue(table.stdout.hasPrefix("GROUP"), table.stdout)
    }
}

/// Names from the log reach plain output escaped: no C1 control or escape sequence is printed raw.
final class CLIOutputSafetyTests: XCTestCase {
    func testHostileTopicNamesAreEscapedInTableAndJSON() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("hostile.db")
        _ = try runProcess(binary, ["demo", "--headless", "--store", store, "--duration", "1"], env: box.environment)
        let evil = "evil\u{1b}[31m\u{9b}2J\u{202e}x"
        let insert = """
            import sqlite3,sys
            db=sqlite3.connect(sys.argv[1])
            db.execute("INSERT INTO topics(name, partitions, created_at) VALUES (?, 1, 0)", (sys.argv[2],))
            db.execute('INSERT INTO partitions(topic, "partition", low, high) VALUES (?, 0, 0, 0)', (sys.argv[2],))
            db.commit()
            """
        let py = try runProcess("/usr/bin/python3", ["-c", insert, store, evil])
        XCTAssertEqual(py.status, 0, py.stderr)
        for args in [["topics", "--interval", "0"], ["topics", "--interval", "0", "--json"]] {
            let r = try runProcess(binary, args + ["--broker", "sqlite:" + store], env: box.environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("evil"), r.stdout)
            for forbidden: UInt32 in [0x1b, 0x9b, 0x202e] {
                XCTAssertFalse(r.stdout.unicodeScalars.contains { $0.value == forbidden },
                               "raw U+\(String(forbidden, radix: 16)) in \(args): \(r.stdout.debugDescription)")
            }
        }
    }
}
