import EmbeddedStore
import EventModel
import Foundation
import Redrive
import XCTest

/// Redrive and replay through the real binary: kill -9 at random moments, read-only, dry run, replay.
final class RedriveEndToEndTests: XCTestCase {
    func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// A store with `orders` (3 partitions) and `orders.DLT` (2) holding `count` Spring-style dead letters.
    func seed(_ path: String, count: Int) async throws {
        let log = try SQLiteLog(path: path)
        try await log.createTopic("orders", partitions: 3)
        try await log.createTopic("orders.DLT", partitions: 2)
        typealias S = DeadLetterHeaderNames.Spring
        var batch: [OutgoingRecord] = []
        for i in 0..<count {
            batch.append(OutgoingRecord(
                topic: "orders.DLT", partition: Int32(i % 2), timestampMillis: 1_700_000_000_000 + Int64(i), key: Array("k\(i)".utf8),
                headers: [RecordHeader("app", "a\(i)"), RecordHeader(name: S.originalTopic, value: Array("orders".utf8)),
                          RecordHeader(name: S.originalPartition, value: be(Int32(i % 3))),
                          RecordHeader(name: S.originalOffset, value: be(Int64(i))),
                          RecordHeader(S.exceptionFQCN, i % 4 == 0 ? "java.net.SocketTimeoutException" : "java.lang.IllegalStateException")],
                value: Array("{\"i\":\(i)}".utf8)))
            if batch.count == 1000 { try await log.produce(batch); batch.removeAll() }
        }
        if !batch.isEmpty { try await log.produce(batch) }
    }

    /// How many times each redrive id appears in `topic`.
    func redriveCounts(_ path: String, topic: String) async throws -> [String: Int] {
        let log = try SQLiteLog(path: path, mode: .readOnly)
        var counts: [String: Int] = [:]
        for p in try await log.watermarks(topic: topic).partitions {
            var next = p.low
            while next < p.high {
                let records = try await log.fetch(topic: topic, partition: p.partition, from: next, maxRecords: 5000)
                guard let last = records.last else { break }
                for r in records { if let id = RedriveRules.carriedRedriveID(r) { counts[id, default: 0] += 1 } }
                next = last.offset + 1
            }
        }
        return counts
    }

    func spawn(_ program: String, _ args: [String], env: [String: String]) throws -> Process {
        try spawnProcess(program, args, env: env)
    }

    func testKillNineAtRandomMomentsThenResumeLandsEveryLetterExactlyOnce() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("crash.db")
        // Batches of 300, so kills land in journal writes, produces and target scans alike. (A
        // resumed job keeps the rate it was started with, so every run here continues the first job.)
        let letters = 40_000
        try await seed(store, count: letters)
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var delays: [Int] = []
        for run in 0..<20 {
            // Paced at 3,000/s (batches of 300, every tenth of a second), so that on a fast machine
            // too the kills land in the middle of the job rather than after it.
            let p = try spawn(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes",
                                       "--rate", "3000"], env: box.environment)
            // The first run is left to select the letters and write its job; every later run
            // resumes that job at once (before it even looks for new letters).
            if run == 0 {
                let deadline = Date().addingTimeInterval(120)
                while Date() < deadline {
                    if let path = box.journals.first,
                       let journal = try? RedriveJournal(path: path, readOnly: true),
                       let jobs = try? journal.jobs(limit: 1), !jobs.isEmpty { break }
                    usleep(20_000)
                }
            }
            let delay = Int.random(in: 30...500, using: &generator)
            delays.append(delay)
            usleep(UInt32(delay) * 1000)
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        // Most runs must really have been killed midway, or the test proves little.
        XCTAssertGreaterThanOrEqual(kills, 15, "delays \(delays)")
        let partial = try await redriveCounts(store, topic: "orders")
        XCTAssertTrue(partial.values.allSatisfy { $0 == 1 }, "a duplicate after a kill")
        XCTAssertLessThan(partial.count, letters, "the kills should have left work to resume")

        let final = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes"],
                                   env: box.environment, limit: 120)
        XCTAssertEqual(final.status, 0, final.stderr)
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, letters, "every letter landed")
        XCTAssertEqual(Set(counts.values), [1], "exactly once")
        let expected = Set((0..<letters).map { i in "orders.DLT/\(i % 2)/\(i / 2)" })
        print("crash test: \(kills) kills at \(delays) ms; \(partial.count) of \(letters) landed before the final run")
        // Each id is the letter's DLQ position and its timestamp.
        XCTAssertTrue(counts.keys.allSatisfy { $0.contains("@1") }, "\(counts.keys.prefix(3))")
        XCTAssertEqual(Set(counts.keys.map { String($0.split(separator: "@")[0]) }), expected)

        // The audit trail has every job, and nothing is left to resume.
        let jobs = try runProcess(binary, ["dlq", "jobs", "--broker", "sqlite:" + store, "--json", "--max", "100"], env: box.environment)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]])
        XCTAssertFalse(rows.contains { ($0["state"] as? String) == "running" }, jobs.stdout)
        XCTAssertEqual(rows.compactMap { $0["moved"] as? Int }.reduce(0, +), letters, jobs.stdout)
        let resume = try runProcess(binary, ["dlq", "resume", "--broker", "sqlite:" + store], env: box.environment)
        XCTAssertEqual(resume.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "no interrupted jobs", resume.stderr)
    }

    func testReadOnlyRefusesAndDryRunWritesNothing() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("ro.db")
        try await seed(store, count: 40)
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        let refused = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes", "--read-only"],
                                     env: box.environment)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("read-only"), refused.stderr)
        let replayRefused = try runProcess(binary, ["replay", "--broker", "sqlite:" + store, "--source-topic", "orders.DLT", "--target-topic", "orders",
                                                    "--from-offset", "0", "--limit", "5", "--yes", "--read-only"], env: box.environment)
        XCTAssertNotEqual(replayRefused.status, 0)
        XCTAssertTrue(replayRefused.stderr.contains("read-only"), replayRefused.stderr)

        let dry = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--dry-run",
                                          "--filter", "SocketTimeout", "--json"], env: box.environment)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["moved"] as? Int, 10) // every 4th of 40
        XCTAssertEqual(report["dryRun"] as? Bool, true)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store)), before, "the store file is byte for byte unchanged")
        XCTAssertTrue(box.journals.isEmpty, "no journal was created: \(box.journals)")
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertTrue(counts.isEmpty)

        // Without --yes and without a terminal to ask on, nothing happens.
        let unconfirmed = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT"], env: box.environment)
        XCTAssertNotEqual(unconfirmed.status, 0)
        XCTAssertTrue(unconfirmed.stderr.contains("--yes"), unconfirmed.stderr)

        // The filter selects the same letters for real; `dlq list` then shows them as redriven.
        let real = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT",
                                           "--filter", "SocketTimeout", "--max", "4", "--yes"], env: box.environment)
        XCTAssertEqual(real.status, 0, real.stderr)
        XCTAssertTrue(real.stdout.contains("requeued 4 of 4"), real.stdout)
        let list = try runProcess(binary, ["dlq", "list", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--json", "--max", "40"],
                                  env: box.environment)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.filter { ($0["state"] as? String) == "redriven" }.count, 4, list.stdout)
    }

    func testADryRunOverEveryDLQShowsEachOneAndTheTotalsAndWritesNothing() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("every.db")
        try await seed(store, count: 40)
        do {
            // A second DLQ, found by its name, with letters for another topic.
            let log = try SQLiteLog(path: store)
            try await log.createTopic("payments", partitions: 1)
            try await log.createTopic("payments.DLT", partitions: 1)
            try await log.produce((0..<6).map { i in
                OutgoingRecord(topic: "payments.DLT", partition: 0, timestampMillis: 1_700_000_100_000 + Int64(i), key: nil,
                               headers: [RecordHeader(DeadLetterHeaderNames.Spring.originalTopic, "payments"),
                                         RecordHeader(DeadLetterHeaderNames.Spring.exceptionFQCN, "java.lang.IllegalStateException")],
                               value: Array("{\"p\":\(i)}".utf8))
            })
        }
        let real = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--max", "4", "--yes"],
                                  env: box.environment)
        XCTAssertEqual(real.status, 0, real.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: store))

        let refused = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--all-dlqs", "--yes"], env: box.environment)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--dry-run"), refused.stderr)

        let json = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--all-dlqs", "--dry-run", "--json"], env: box.environment)
        XCTAssertEqual(json.status, 0, json.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        let dlqs = try XCTUnwrap(report["dlqs"] as? [[String: Any]])
        XCTAssertEqual(dlqs.compactMap { $0["sourceTopic"] as? String }, ["orders.DLT", "payments.DLT"])
        XCTAssertEqual(dlqs.compactMap { $0["moved"] as? Int }, [36, 6])
        XCTAssertEqual(dlqs.first?["skipped"] as? Int, 4, "the letters requeued before are left out")
        XCTAssertEqual(report["moved"] as? Int, 42)
        XCTAssertEqual(report["skipped"] as? Int, 4)
        XCTAssertEqual(report["dryRun"] as? Bool, true)

        let text = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--all-dlqs", "--dry-run"], env: box.environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("dry run: would have requeued 36 of 36 from orders.DLT → orders ×36"), text.stdout)
        XCTAssertTrue(text.stdout.contains("dry run: would have requeued 6 of 6 from payments.DLT → payments ×6"), text.stdout)
        XCTAssertTrue(text.stdout.contains("every DLQ (2): would have requeued 42 of 42, skipped 4"), text.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store)), before, "the dry runs left the store as it was")
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, 4)
    }

    func testReplayCopiesExactlyTheRange() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("replay.db")
        try await seed(store, count: 100)
        let log = try SQLiteLog(path: store)
        try await log.createTopic("orders.copy", partitions: 2)
        let r = try runProcess(binary, ["replay", "--broker", "sqlite:" + store, "--source-topic", "orders.DLT", "--target-topic", "orders.copy",
                                        "--from-offset", "10", "--limit", "15", "--partition", "1", "--yes", "--json"], env: box.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let copy = try await log.watermarks(topic: "orders.copy")
        XCTAssertEqual(copy.partitions.map(\.high), [0, 15])
        let copied = try await log.fetch(topic: "orders.copy", partition: 1, from: 0, maxRecords: 100)
        let from = copied.compactMap { $0.header("evtop-redriven-from")?.utf8Value }
        XCTAssertEqual(from, (10..<25).map { "orders.DLT/1/\($0)" })
        // Replays keep every original header, the DLT ones included.
        XCTAssertTrue(copied.allSatisfy { $0.header("kafka_dlt-original-topic") != nil })
        // A range past the end copies what exists and says so.
        let past = try runProcess(binary, ["replay", "--broker", "sqlite:" + store, "--source-topic", "orders.DLT", "--target-topic", "orders.copy",
                                           "--from-offset", "1000", "--limit", "5", "--yes"], env: box.environment)
        XCTAssertEqual(past.status, 0, past.stderr)
        XCTAssertTrue(past.stdout.contains("nothing to copy"), past.stdout)
    }

    func testALetterIsCopiedThroughTheTerminalsClipboardSavedAsJSONAndScrolledSideways() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("copy.db")
        try await seed(store, count: 3)
        do {
            // One letter whose payload is one long line with an escape sequence in it.
            let log = try SQLiteLog(path: store)
            let long = "{\"note\":\"\\u001b[31mred\",\"tail\":\"" + String(repeating: "abcdefghij", count: 20) + "END\"}"
            try await log.produce([OutgoingRecord(topic: "orders.DLT", partition: 0, timestampMillis: 1_800_000_000_000, key: [0xff, 0x00],
                                                  headers: [RecordHeader(DeadLetterHeaderNames.Spring.originalTopic, "orders")],
                                                  value: Array(long.utf8))])
        }
        let session = try TmuxSession(width: 100, height: 30, command: "cd \(box.path("")) && \(binary) --broker sqlite:\(store); echo EXITED:$?",
                                      env: box.environment)
        // tmux keeps what an application sets through OSC 52 in its paste buffer when set-clipboard is on.
        try session.run(["set-option", "-s", "set-clipboard", "on"])
        session.waitFor("topics", limit: 45) { $0.contains("TOPIC") }
        session.send(literal: ":letter orders.DLT/0/2")
        session.sendKeys("Enter")
        session.waitFor("the letter's detail") { $0.contains("orders.DLT p0@2") && $0.contains("Payload") }
        session.send(literal: "y")
        session.waitFor("the copy confirmed") { $0.contains("copied the payload") }
        let buffer = try session.run(["show-buffer"]).stdout
        XCTAssertTrue(buffer.hasPrefix("{\"note\":\"\\u001b[31mred\""), buffer.debugDescription)
        XCTAssertTrue(buffer.hasSuffix("END\"}"), buffer.debugDescription)
        XCTAssertFalse(session.capture().contains("red\u{1b}"), "the escape went through base64, never to the screen")

        session.send(literal: "Y")
        session.waitFor("the whole letter copied") { $0.contains("copied the letter as JSON") }
        let whole = try session.run(["show-buffer"]).stdout
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(whole.utf8)) as? [String: Any], whole)
        XCTAssertEqual((doc["key"] as? [String: Any])?["base64"] as? String, Data([0xff, 0x00]).base64EncodedString())
        XCTAssertEqual(((doc["value"] as? [String: Any])?["text"] as? String)?.hasSuffix("END\"}"), true)
        XCTAssertEqual((doc["deadLetter"] as? [String: Any])?["originalTopic"] as? String, "orders")

        // :save writes the same document to a file, and never over one.
        session.send(literal: ":save")
        session.sendKeys("Enter")
        let file = box.path("orders.DLT-p0-2.json")
        session.waitFor("saved") { $0.contains("saved orders.DLT p0@2 as JSON to orders.DLT-p0-2.json") }
        let saved = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        XCTAssertEqual(saved["offset"] as? Int, 2)
        session.send(literal: ":save")
        session.sendKeys("Enter")
        session.waitFor("no overwrite") { $0.contains("it exists already") }

        // w: the long line runs on; l scrolls it sideways to its end.
        session.send(literal: "w")
        session.waitFor("no wrap") { $0.contains("h l") && $0.contains("cols 1–") }
        for _ in 0..<30 { session.send(literal: "l") }
        session.waitFor("the line's end in sight") { screen in screen.contains("END") && screen.contains("cols ") && !screen.contains("cols 1–") }
        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }
    }

    func testRedriveFromTheDLQViewWithItsProgressBar() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("ui.db")
        let session = try TmuxSession(width: 100, height: 30,
                                      command: "\(binary) demo --store \(store) --rate 40 --poison-rate 0.1; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("topics", limit: 45) { $0.contains("TOPIC") && $0.contains("● live") }
        session.send(literal: "4")
        session.waitFor("orders.DLT with letters", limit: 60) { DLQEndToEndTests.dlqWithLetters($0) == "orders.DLT" }
        session.send(literal: "/^orders\\.DLT\\b")
        session.sendKeys("Enter")
        session.waitFor("filter applied") { $0.contains("orders.DLT") && !$0.contains("▏") }
        session.sendKeys("Enter")
        session.waitFor("at least three pending letters", limit: 60) { screen in
            screen.split(separator: "\n").filter { $0.contains("pending") }.count >= 3
        }
        // Everything shown, slowed to 1/s so the progress bar is there to see.
        session.send(literal: "R")
        session.waitFor("the confirm dialog") { $0.contains("dead letters?") && $0.contains("rate  100/s") }
        for _ in 0..<3 { session.sendKeys("-") }
        session.waitFor("rate 1/s") { $0.contains("rate  1/s") }
        session.sendKeys("Enter")
        session.waitFor("the progress bar moving", limit: 30) { screen in
            screen.contains("Requeuing") && screen.contains("░") && screen.contains("/s") && screen.contains("ETA")
        }
        session.waitFor("a second letter moved", limit: 30) { screen in
            screen.split(separator: "\n").contains { line in line.contains("░") && (line.contains(" 2/") || line.contains(" 3/")) }
        }
        session.sendKeys("Escape")
        session.waitFor("the job cancelled, what moved stays moved", limit: 30) { $0.contains("Requeue cancelled") && $0.contains("cancelled: requeued") }
        session.send(literal: "x")
        session.send(literal: "H") // requeued letters are hidden until H shows them
        session.send(literal: "G") // the oldest letters, which moved first, are at the bottom
        session.waitFor("rows marked redriven", limit: 30) { $0.contains("redriven") && !$0.contains("Requeue cancelled") }
        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }

        let jobs = try runProcess(binary, ["dlq", "jobs", "--broker", "sqlite:" + store, "--json"], env: box.environment)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]], jobs.stderr)
        let job = try XCTUnwrap(rows.first, jobs.stdout)
        XCTAssertEqual(job["state"] as? String, "cancelled")
        XCTAssertGreaterThanOrEqual(job["moved"] as? Int ?? 0, 2)
        XCTAssertLessThan(job["moved"] as? Int ?? 0, job["selected"] as? Int ?? 0)
        XCTAssertFalse((job["user"] as? String ?? "").isEmpty, "the audit trail names who ran it")
    }

    func testATopicNamedLikeAnyOtherIsADLQByItsHeaders() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("headers.db")
        try await seed(store, count: 10)
        // Copy the letters, headers and all, to a topic no DLQ pattern matches.
        let log = try SQLiteLog(path: store)
        try await log.createTopic("payment-failures", partitions: 1)
        let r = try runProcess(binary, ["replay", "--broker", "sqlite:" + store, "--source-topic", "orders.DLT", "--target-topic", "payment-failures",
                                        "--from-offset", "0", "--limit", "5", "--partition", "0", "--yes"], env: box.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try runProcess(binary, ["dlq", "list", "--broker", "sqlite:" + store, "--json"], env: box.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.filter { ($0["topic"] as? String) == "payment-failures" }.count, 5, list.stdout)
        XCTAssertFalse(rows.contains { ($0["topic"] as? String) == "orders" }, "a plain topic is not a DLQ")
    }

    // MARK: - One journal whatever the path (issue: a symlinked store was redriven twice)

    /// Spellings of `store` that SQLite itself resolves to the one file name: a symlink and a path through `..`.
    func aliases(of store: String, in box: Sandbox) throws -> [String: String] {
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: box.path("alias.db"), withDestinationPath: store)
        try fm.createDirectory(atPath: box.path("sub"), withIntermediateDirectories: true)
        return ["symlink": box.path("alias.db"), "dot-dot": box.path("sub/../" + (store as NSString).lastPathComponent)]
    }

    func requeueJSON(_ binary: String, _ store: String, _ extra: [String] = [], env: [String: String]) throws -> [String: Any] {
        let run = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes", "--json"] + extra,
                                 env: env, limit: 180)
        XCTAssertEqual(run.status, 0, "requeue through \(store): \(run.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func testEveryPathToAStoreFindsTheSameJournalSoNoLetterMovesTwice() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("p.db")
        try await seed(store, count: 162)
        let aliases = try aliases(of: store, in: box)
        let first = try requeueJSON(binary, store, env: box.environment)
        XCTAssertEqual(first["moved"] as? Int, 162)
        for (kind, alias) in aliases.sorted(by: { $0.key < $1.key }) {
            let again = try requeueJSON(binary, alias, env: box.environment)
            XCTAssertEqual(again["moved"] as? Int, 0, "through a \(kind) (\(alias)) nothing moves again: \(again)")
            XCTAssertEqual(again["skipped"] as? Int, 162, "through a \(kind)")
        }
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, 162)
        XCTAssertEqual(Set(counts.values), [1], "every letter exactly once in orders")
        XCTAssertEqual(box.journals.count, 1, "one journal for the store: \(box.journals)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + ".redrive"), "nothing is written beside the store")
    }

    func testTwoRequeuesAtOnceThroughTwoPathsMoveEachLetterOnce() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("p.db")
        try await seed(store, count: 162)
        let aliases = try aliases(of: store, in: box)
        for (kind, alias) in aliases.sorted(by: { $0.key < $1.key }) {
            // Both at once, slow enough (200/s) to overlap; then again through the other spelling first.
            let a = try spawn(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes", "--rate", "200"],
                              env: box.environment)
            let b = try spawn(binary, ["dlq", "requeue", "--broker", "sqlite:" + alias, "--dlq-topic", "orders.DLT", "--yes", "--rate", "200"],
                              env: box.environment)
            a.waitUntilExit()
            b.waitUntilExit()
            XCTAssertEqual(a.terminationStatus, 0, kind)
            XCTAssertEqual(b.terminationStatus, 0, kind)
            let counts = try await redriveCounts(store, topic: "orders")
            XCTAssertEqual(counts.count, 162, kind)
            XCTAssertEqual(Set(counts.values), [1], "through \(kind) and the path at once: every letter exactly once")
        }
    }

    func testAJournalAnOlderEvtopKeptBesideTheStoreIsTakenIn() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("p.db")
        try await seed(store, count: 162)
        // An older evtop kept the journal beside the store: STORE.redrive.
        let older = try requeueJSON(binary, store, ["--max", "81", "--journal", store + ".redrive"], env: box.environment)
        XCTAssertEqual(older["moved"] as? Int, 81)
        try FileManager.default.createSymbolicLink(atPath: box.path("alias.db"), withDestinationPath: store)
        let rest = try requeueJSON(binary, box.path("alias.db"), env: box.environment)
        XCTAssertEqual(rest["moved"] as? Int, 81, "only the letters the older journal had not moved: \(rest)")
        XCTAssertEqual(rest["skipped"] as? Int, 81)
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, 162)
        XCTAssertEqual(Set(counts.values), [1])
        let jobs = try runProcess(binary, ["dlq", "jobs", "--broker", "sqlite:" + store, "--json"], env: box.environment)
        let listed = (try? JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]]) ?? []
        XCTAssertEqual(listed.count, 2, "the older job is in the audit trail too: \(jobs.stdout)")
    }

    func testAStoreWithASecondNameSQLiteCannotSeeIsRefusedUntouched() async throws {
        // A hard link or a file bind mount is a second name SQLite does not resolve: each name would
        // get its own write-ahead log, and two writers would corrupt the store.
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("p.db")
        try await seed(store, count: 162)
        try FileManager.default.createDirectory(atPath: box.path("elsewhere"), withIntermediateDirectories: true)
        let before = try Data(contentsOf: URL(fileURLWithPath: store))

        XCTAssertEqual(link(store, box.path("elsewhere/hard.db")), 0, String(cString: strerror(errno)))
        for name in [store, box.path("elsewhere/hard.db")] {
            for args in [["dlq", "requeue", "--broker", "sqlite:" + name, "--dlq-topic", "orders.DLT", "--yes"],
                         ["topics", "--broker", "sqlite:" + name]] {
                let run = try runProcess(binary, args, env: box.environment)
                XCTAssertNotEqual(run.status, 0, "\(args): refused")
                XCTAssertTrue(run.stderr.contains("2 names (hard links)"), "\(args) says why: \(run.stderr)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store)), before, "the store is untouched")
        XCTAssertEqual(unlink(box.path("elsewhere/hard.db")), 0)

        let target = box.path("mounted/bind.db")
        try FileManager.default.createDirectory(atPath: box.path("mounted"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target, contents: nil)
        guard let mount = try? runProcess("/bin/mount", ["--bind", store, target]), mount.status == 0 else {
            throw XCTSkip("bind mounts are not permitted here: the hard-link case ran, the bind-mount case did not")
        }
        defer { _ = try? runProcess("/bin/umount", [target]) }
        let throughMount = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + target, "--dlq-topic", "orders.DLT", "--yes"],
                                          env: box.environment)
        XCTAssertNotEqual(throughMount.status, 0)
        XCTAssertTrue(throughMount.stderr.contains("bind-mounted"), throughMount.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store)), before, "the store is untouched")
        let direct = try requeueJSON(binary, store, env: box.environment)
        XCTAssertEqual(direct["moved"] as? Int, 162, "its own name still works")
    }
}
