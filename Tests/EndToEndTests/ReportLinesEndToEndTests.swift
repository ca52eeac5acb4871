import EmbeddedStore
import EventModel
import Foundation
import Redrive
import XCTest

/// What CLI commands print besides data: reports of several lines stay lines (each terminal-safe), a
/// skip names the job that caused it correctly, and stderr holds evtop's one-line error, not
/// librdkafka's log lines (issue 16 item 11).
final class ReportLinesEndToEndTests: XCTestCase {
    func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// A store whose DLQ `dlq` holds `count` Spring-style letters from `original` (which exists only when `createOriginal`).
    func seed(_ path: String, dlq: String = "orders.DLT", original: String = "orders", createOriginal: Bool = true, count: Int) async throws {
        let log = try SQLiteLog(path: path)
        if createOriginal { try await log.createTopic(original, partitions: 1) }
        try await log.createTopic(dlq, partitions: 1)
        typealias S = DeadLetterHeaderNames.Spring
        try await log.produce((0..<count).map { i in
            OutgoingRecord(topic: dlq, partition: 0, timestampMillis: 1_700_000_000_000 + Int64(i), key: Array("k\(i)".utf8),
                           headers: [RecordHeader(name: S.originalTopic, value: Array(original.utf8)),
                                     RecordHeader(name: S.originalPartition, value: be(Int32(0))),
                                     RecordHeader(name: S.originalOffset, value: be(Int64(i))),
                                     RecordHeader(S.exceptionFQCN, "java.lang.IllegalStateException")],
                           value: Array("{\"i\":\(i)}".utf8))
        })
    }

    /// The newest job of the journal, once it exists and `predicate` holds for it.
    func waitForJob(_ journalPath: String, limit: Double = 60, _ predicate: (RedriveJobRecord) -> Bool) -> RedriveJobRecord? {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: journalPath),
               let journal = try? RedriveJournal(path: journalPath, readOnly: true),
               let job = try? journal.jobs(limit: 1).first, predicate(job) { return job }
            usleep(50_000)
        }
        return nil
    }

    func background(_ binary: String, _ args: [String], env: [String: String], stdout: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.standardInput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: stdout, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: stdout)
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Two requeues of one DLQ: the second selected its letters and waits at its confirmation while the
    /// first, throttled, is still running. The second's report says another job, still running, holds
    /// them; then, once that job has ended, a third says an earlier job requeued them. Each report prints
    /// as lines, not as one line with `␊` in it.
    func testASkipByAJobStillRunningIsNotCalledEarlierAndTheReportKeepsItsLines() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("two.db")
        try await seed(store, count: 20)
        let journal = try await box.journal(ofStore: store)
        let requeue = "\(binary) dlq requeue --broker sqlite:\(store) --dlq-topic orders.DLT"

        // Second requeue first: it selects all 20 letters and asks (stdin is tmux's terminal).
        let waiting = try TmuxSession(width: 160, height: 30, command: "\(requeue) > \(box.path("second.out")); echo EXITED:$?", env: box.environment)
        waiting.waitFor("the confirmation") { $0.contains("Requeue 20 dead letters") && $0.contains("[y/N]") }

        // The first, at 1 letter a second, claims them all and keeps running.
        let first = try background(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes", "--rate", "1"],
                                   env: box.environment, stdout: box.path("first.out"))
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) }; first.waitUntilExit() }
        let running = try XCTUnwrap(waitForJob(journal) { $0.state == "running" }, "the first job started")
        // Let it move a letter or two: those are requeued, but by a job still running (not an earlier one).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? RedriveJournal(path: journal, readOnly: true).counts(running.id)[.done]) ?? 0 < 1 { usleep(50_000) }

        waiting.send(literal: "y")
        waiting.sendKeys("Enter")
        waiting.waitFor("the second requeue to end", limit: 60) { $0.contains("EXITED:") }
        XCTAssertTrue(first.isRunning, "the first job is still running while the second reports")
        let second = try String(contentsOfFile: box.path("second.out"), encoding: .utf8)
        let lines = second.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, second)
        XCTAssertTrue(lines.first?.hasPrefix("requeued 0 of 20 from orders.DLT") ?? false, second)
        XCTAssertEqual(lines.last, "skipped 20 taken by another job (still running: \(running.id))", second)
        XCTAssertFalse(second.contains("␊"), second)
        XCTAssertFalse(second.contains("earlier"), second)

        // The first job ends (cancelled: what it moved stays moved); a third requeue that selected
        // before a fourth moved the rest is told an earlier job did it.
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        let third = try TmuxSession(width: 160, height: 30, command: "\(requeue) > \(box.path("third.out")); echo EXITED:$?", env: box.environment)
        let asked = third.waitFor("the confirmation") { $0.contains("dead letters") && $0.contains("[y/N]") } ?? ""
        let fourth = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT", "--yes"], env: box.environment)
        XCTAssertEqual(fourth.status, 0, fourth.stderr)
        third.send(literal: "y")
        third.sendKeys("Enter")
        third.waitFor("the third requeue to end", limit: 60) { $0.contains("EXITED:") }
        let thirdOut = try String(contentsOfFile: box.path("third.out"), encoding: .utf8)
        let thirdLines = thirdOut.split(separator: "\n").map(String.init)
        XCTAssertEqual(thirdLines.count, 2, thirdOut + asked)
        XCTAssertTrue(thirdLines.last?.hasPrefix("skipped ") ?? false, thirdOut)
        XCTAssertTrue(thirdLines.last?.hasSuffix(" by an earlier job") ?? false, thirdOut)
        XCTAssertFalse(thirdOut.contains("still running"), thirdOut)
    }

    /// A report with failures (the letters' original topic is gone) prints one line per failure; the
    /// topic names' escape sequences are neutralised inside their lines and make no lines of their own.
    func testAReportWithFailuresPrintsItsLinesEachTerminalSafe() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("fail.db")
        let dlq = "evil\u{1B}[2J\nx.DLT"
        try await seed(store, dlq: dlq, original: "gone\u{1B}]0;owned\u{07}", createOriginal: false, count: 3)
        let r = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + store, "--dlq-topic", dlq, "--yes"], env: box.environment)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, r.stdout) // requeued 0 of 3, failed 3:, and a line per letter
        XCTAssertTrue(lines.first?.hasPrefix("requeued 0 of 3 from evil") ?? false, r.stdout)
        XCTAssertEqual(lines.dropFirst().first, "failed 3:", r.stdout)
        for line in lines.dropFirst(2) {
            XCTAssertTrue(line.hasPrefix("  evil"), line)
            XCTAssertTrue(line.contains("does not exist"), line)
        }
        XCTAssertFalse(r.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "an escape reached the terminal: \(r.stdout.debugDescription)")
    }

    /// With an unreachable broker, each command's stderr is its one-line error; librdkafka's own lines
    /// (connection refused, all brokers down) are in evtop's log file.
    func testLibrdkafkaLinesGoToTheLogFileAndStderrHoldsOneLine() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let broker = "kafka://127.0.0.1:1"
        let commands: [[String]] = [
            ["topics", "--broker", broker],
            ["topics", "--broker", broker, "-X", "debug=broker,protocol"],
            ["lag", "--broker", broker, "--group", "g"],
            ["dlq", "list", "--broker", broker, "--dlq-topic", "orders.DLT"],
            ["dlq", "requeue", "--broker", broker, "--dlq-topic", "orders.DLT", "--yes"],
            ["dlq", "jobs", "--broker", broker],
            ["saga", "--broker", broker, "ord-1"],
            ["demo", "--broker", broker, "--headless", "--duration", "2"],
        ]
        for args in commands {
            let r = try runProcess(binary, args, env: box.environment, limit: 120)
            let shown = "\(args.joined(separator: " ")) → \(r.status)\nstderr: \(r.stderr)"
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, shown)
            XCTAssertTrue(lines.first?.hasPrefix("Error: ") ?? false, shown)
            XCTAssertFalse(r.stderr.contains("|FAIL|") || r.stderr.contains("thrd:"), shown)
        }
        let log = try String(contentsOfFile: box.path("state/evtop/evtop.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("evtop.kafka") && log.contains("127.0.0.1:1"), "librdkafka's lines are in the log file")
    }
}
