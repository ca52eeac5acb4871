import Foundation
import XCTest

/// `evtop-mock-cluster` (librdkafka's mock cluster, 3 brokers) in a child process, driven by stdin commands.
final class MockClusterProcess {
    let process = Process()
    let bootstrap: String
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    init(topics: [String]) throws {
        let binary = URL(fileURLWithPath: try evtopBinary()).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("evtop-mock-cluster").path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("evtop-mock-cluster not built at \(binary)") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = topics.flatMap { ["--topic", $0] }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var first = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            pending += output.fileHandleForReading.availableData
            if let nl = pending.firstIndex(of: 10) {
                first = String(decoding: pending[..<nl], as: UTF8.self)
                pending = Data(pending[(nl + 1)...])
                break
            }
        }
        guard !first.isEmpty else { throw XCTSkip("evtop-mock-cluster printed no bootstrap address") }
        bootstrap = first
    }

    /// Sends one command (`down 1`, `up 1`, `topic NAME N`, `errors KEY COUNT CODE`) and waits for its answer.
    @discardableResult
    func command(_ line: String) -> String {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let nl = pending.firstIndex(of: 10) {
                defer { pending = Data(pending[(nl + 1)...]) }
                return String(decoding: pending[..<nl], as: UTF8.self)
            }
            pending += output.fileHandleForReading.availableData
        }
        return "timeout"
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// kcat, the independent client, with `input` on stdin.
@discardableResult
func kcat(_ args: [String], input: String? = nil) throws -> RunResult {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat") else { throw XCTSkip("kcat is not installed") }
    guard let input else { return try runProcess("/usr/bin/kcat", args, limit: 30) }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("kcat-\(UUID().uuidString).txt")
    try Data(input.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try runProcess("/usr/bin/kcat", args + ["-l", file.path], limit: 30)
}

/// evtop against Kafka (librdkafka's mock cluster) with kcat producing and consuming on the other side.
final class KafkaEndToEndTests: XCTestCase {
    func testTopicsLagAndDeadLettersOfWhatKcatWrote() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:6", "orders.DLT:2"])
        let url = "kafka://" + cluster.bootstrap
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-k", "A-1", "-q"],
                                input: (1...40).map { "{\"order\":\($0)}" }.joined(separator: "\n") + "\n").status, 0)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders.DLT", "-q", "-H", "kafka_dlt-original-topic=orders",
                                 "-H", "kafka_dlt-original-partition=2", "-H", "kafka_dlt-original-offset=17",
                                 "-H", "kafka_dlt-exception-fqcn=java.lang.IllegalStateException",
                                 "-H", "kafka_dlt-exception-message=no stock for A-1"], input: "{\"order\":\"A-1\"}\n").status, 0)
        let consumed = try kcat(["-G", "billing", "-b", bs, "-e", "-q", "-X", "auto.offset.reset=earliest", "orders"])
        XCTAssertEqual(consumed.status, 0, consumed.stderr)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-k", "A-1", "-q"], input: "late1\nlate2\nlate3\n").status, 0)

        let topics = try runProcess(binary, ["topics", "--broker", url, "--json", "--interval", "0"], env: box.environment)
        XCTAssertEqual(topics.status, 0, topics.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(topics.stdout.utf8)) as? [[String: Any]])
        let orders = try XCTUnwrap(rows.first { $0["topic"] as? String == "orders" })
        XCTAssertEqual(orders["total"] as? Int, 43)
        XCTAssertEqual(orders["partitions"] as? Int, 6)
        XCTAssertEqual(rows.first { $0["topic"] as? String == "orders.DLT" }?["deadLetterQueue"] as? Bool, true)

        // Lag of the group kcat committed: 3 records written after it read everything.
        let lag = try runProcess(binary, ["lag", "--broker", url, "--group", "billing", "--json"], env: box.environment)
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lag.stdout.utf8)) as? [[String: Any]], lag.stderr)
        XCTAssertEqual(groups.first?["group"] as? String, "billing")
        XCTAssertEqual(groups.first?["totalLag"] as? Int, 3)

        let dlq = try runProcess(binary, ["dlq", "list", "--broker", url, "--json"], env: box.environment)
        XCTAssertEqual(dlq.status, 0, dlq.stderr)
        let letters = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dlq.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(letters.count, 1)
        XCTAssertEqual(letters.first?["originalTopic"] as? String, "orders")
        XCTAssertEqual(letters.first?["originalOffset"] as? Int, 17)
        XCTAssertEqual(letters.first?["exceptionClass"] as? String, "java.lang.IllegalStateException")

        let snap = try runProcess(binary, ["snapshot", "--broker", url, "--view", "lag", "--width", "100", "--height", "12",
                                           "-X", "client.id=e2e"], env: box.environment)
        XCTAssertEqual(snap.status, 0, snap.stderr)
        _ = cluster
    }

    func testTopicsAndLagViewsInATerminalFollowTheClusterThroughAnOutage() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["payments:3"])
        XCTAssertEqual(try kcat(["-P", "-b", cluster.bootstrap, "-t", "payments", "-q"],
                                input: (1...30).map { "p\($0)" }.joined(separator: "\n") + "\n").status, 0)
        XCTAssertEqual(try kcat(["-G", "ledger", "-b", cluster.bootstrap, "-e", "-q", "-X", "auto.offset.reset=earliest", "payments"]).status, 0)
        // The mock cannot list groups: the context names the group, and a secret property rides along.
        try FileManager.default.createDirectory(atPath: box.path("config/evtop"), withIntermediateDirectories: true)
        try """
        contexts:
          mock:
            broker: kafka://\(cluster.bootstrap)
            groups: [ledger]
            properties:
              sasl.password: hunter2-secret
        """.write(toFile: box.path("config/evtop/config.yaml"), atomically: true, encoding: .utf8)
        let session = try TmuxSession(width: 110, height: 30, command: "\(binary) --context mock --refresh 0.5; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("topics of the mock cluster") { $0.contains("payments") && $0.contains("● live") }
        XCTAssertFalse(session.capture().contains("hunter2"))
        // The partitions: leaders (partition p led by broker p + 1), replicas and ISR.
        session.sendKeys("Enter")
        session.waitFor("partitions with leaders and replicas") { screen in
            screen.contains("LEADER REPLICAS ISR") && screen.split(separator: "\n").contains { $0.contains("│         0 ") && $0.contains(" 1 1,2,3") }
        }
        session.sendKeys("Escape")
        session.waitFor("back on the topics") { $0.contains("TOPIC") && !$0.contains("LEADER") }
        session.send(literal: "2")
        session.waitFor("lag view with the kcat group") { $0.contains("ledger") }

        // One broker down (it leads partition 0): a partial outage in the header, and in the partitions.
        XCTAssertEqual(cluster.command("down 1"), "ok")
        session.waitFor("partial outage in the header", limit: 40) { $0.contains("◐ 2/3 brokers") }
        session.send(literal: "1")
        session.waitFor("the topics view") { $0.contains("TOPIC") }
        session.sendKeys("Enter")
        session.waitFor("the leader of partition 0 down", limit: 20) { $0.contains("1 ✗") }
        session.sendKeys("Escape")
        session.waitFor("back on the topics") { $0.contains("TOPIC") && !$0.contains("LEADER") }
        session.send(literal: "2")
        session.waitFor("the lag view again") { $0.contains("ledger") && $0.contains("GROUP") }
        // Every broker down: the header says so; back up: live again, by itself.
        for b in 2...3 { XCTAssertEqual(cluster.command("down \(b)"), "ok") }
        session.waitFor("connection down in the header", limit: 40) { $0.contains("✗ down") }
        for b in 1...3 { XCTAssertEqual(cluster.command("up \(b)"), "ok") }
        session.waitFor("live again", limit: 40) { $0.contains("● live") && $0.contains("ledger") }
        XCTAssertFalse(session.capture().contains("hunter2"))
        session.send(literal: "q")
        session.waitFor("exit") { $0.contains("EXITED:0") }
        let logs = (try? FileManager.default.subpathsOfDirectory(atPath: box.root.path)) ?? []
        for file in logs where file.hasSuffix(".log") {
            let text = (try? String(contentsOfFile: box.path(file), encoding: .utf8)) ?? ""
            XCTAssertFalse(text.contains("hunter2"), "secret in \(file)")
        }
    }

    func testDeadLettersRequeueAndSagasViewsInATerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:3", "payments:2", "orders.DLT:2"])
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "1", "-q", "-H", "correlation-id=ord-7", "-H", "event-type=OrderPlaced"],
                                input: "{\"order\":7}\n").status, 0)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "payments", "-p", "0", "-q", "-H", "correlation-id=ord-7", "-H", "event-type=PaymentDeclined"],
                                input: "{\"order\":7,\"reason\":\"card\"}\n").status, 0)
        // The failed payment, dead-lettered the way Spring Kafka does it (kcat sends the numbers as text).
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders.DLT", "-p", "0", "-q",
                                 "-H", "kafka_dlt-original-topic=payments", "-H", "kafka_dlt-original-partition=0",
                                 "-H", "kafka_dlt-original-offset=0", "-H", "kafka_dlt-exception-fqcn=java.lang.IllegalStateException",
                                 "-H", "kafka_dlt-exception-message=card declined", "-H", "correlation-id=ord-7",
                                 "-H", "event-type=PaymentDeclined", "-H", "trace-note=kept"],
                                input: "{\"order\":7,\"reason\":\"card\"}\n").status, 0)
        for n in 1...3 {
            XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders.DLT", "-p", "1", "-q",
                                     "-H", "kafka_dlt-original-topic=orders", "-H", "kafka_dlt-original-partition=2",
                                     "-H", "kafka_dlt-original-offset=\(n)", "-H", "kafka_dlt-exception-fqcn=java.lang.NullPointerException",
                                     "-H", "correlation-id=ord-\(10 + n)", "-H", "event-type=OrderPlaced"],
                                    input: "{\"order\":\(10 + n)}\n").status, 0)
        }
        // A group kcat committed, named on the command line (the mock cannot list groups).
        XCTAssertEqual(try kcat(["-G", "audit", "-b", bs, "-e", "-q", "-X", "auto.offset.reset=earliest", "orders"]).status, 0)
        let session = try TmuxSession(width: 110, height: 30,
                                      command: "\(binary) --broker kafka://\(bs) --group audit --refresh 0.5; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("topics of the mock cluster") { $0.contains("orders.DLT") && $0.contains("● live") }
        session.send(literal: "4")
        session.waitFor("the DLQ overview", limit: 30) { screen in
            screen.contains("Dead-letter queues") && screen.split(separator: "\n").contains { $0.contains("orders.DLT") && $0.contains(" 4 ") }
        }
        session.sendKeys("Enter")
        session.waitFor("four pending letters", limit: 30) { screen in
            screen.split(separator: "\n").filter { $0.contains("pending") }.count == 4 && screen.contains("IllegalStateException")
        }
        // The Spring letter of ord-7: its detail, then its saga.
        session.send(literal: "/ord-7")
        session.sendKeys("Enter")
        session.waitFor("the filter leaves ord-7") { screen in
            screen.contains("ord-7") && !screen.contains("ord-11") && !screen.contains("▏")
        }
        session.sendKeys("Enter")
        session.waitFor("the letter's detail with its headers decoded") { screen in
            screen.contains("from payments p0@0") && screen.contains("kafka_dlt-original-offset: 0") && screen.contains("\"reason\" : \"card\"")
        }
        session.send(literal: "c")
        session.waitFor("the saga of ord-7 read from the cluster", limit: 60) { screen in
            screen.contains("ord-7") && screen.contains("FAILED") && screen.contains("OrderPlaced") && screen.contains("orders.DLT p0@0")
        }
        session.sendKeys("Escape")
        session.waitFor("back on the letter") { $0.contains("from payments p0@0") }
        // Requeue it: the confirm dialog names the original topic, the job runs, the state says so.
        session.send(literal: "r")
        session.waitFor("the confirm dialog") { $0.contains("Requeue 1 dead letter?") && $0.contains("to    payments") }
        session.sendKeys("Enter")
        session.waitFor("the job done", limit: 60) { $0.contains("Requeue done") && $0.contains("requeued 1 of 1") }
        session.sendKeys("Escape")
        session.sendKeys("Escape")
        // A requeued letter leaves the list (the title counts it); H shows it again, marked redriven.
        session.waitFor("the requeued letter hidden and counted", limit: 30) { $0.contains("1 handled hidden") && $0.contains("H shows them") }
        session.send(literal: "H")
        session.waitFor("the letter marked redriven", limit: 30) { screen in
            screen.split(separator: "\n").contains { $0.contains("ord-7") && $0.contains("redriven") }
        }
        // The sagas view lists what the cluster holds, the dead-letter-only sagas included.
        session.send(literal: "3")
        session.waitFor("the sagas list", limit: 60) { screen in
            let lines = screen.split(separator: "\n")
            return lines.contains { $0.contains("ord-7") && $0.contains("FAILED") } && lines.contains { $0.contains("ord-12") && $0.contains("OrderPlaced") }
        }
        session.send(literal: "2")
        session.waitFor("the group named with --group") { $0.contains("audit") && $0.contains("orders") }
        session.send(literal: "q")
        session.waitFor("exit") { $0.contains("EXITED:0") }

        // kcat reads the requeued payment back: exactly one copy, Spring headers gone, the others kept.
        let read = try kcat(["-C", "-b", bs, "-t", "payments", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%h|%s\\n"])
        XCTAssertEqual(read.status, 0, read.stderr)
        let copies = read.stdout.split(separator: "\n").filter { $0.contains("evtop-redrive-id") }
        XCTAssertEqual(copies.count, 1, read.stdout)
        XCTAssertTrue(copies.first?.contains("trace-note=kept") ?? false, read.stdout)
        XCTAssertFalse(copies.first?.contains("kafka_dlt-") ?? true, read.stdout)
        XCTAssertTrue(copies.first?.hasSuffix("{\"order\":7,\"reason\":\"card\"}") ?? false, read.stdout)
        // The journal is named after the cluster's id: any spelling of its servers finds it.
        let journals = try FileManager.default.contentsOfDirectory(atPath: box.path("state/evtop/redrive")).filter { $0.hasSuffix(".journal") }
        XCTAssertEqual(journals.count, 1, "\(journals)")
        XCTAssertTrue(journals.first?.hasPrefix("kafka-") ?? false, "\(journals)")
        let reversed = bs.split(separator: ",").reversed().joined(separator: ",")
        let jobs = try runProcess(binary, ["dlq", "jobs", "--broker", "kafka://" + reversed, "--json"], env: box.environment, limit: 60)
        XCTAssertEqual(jobs.status, 0, jobs.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]], jobs.stdout)
        XCTAssertEqual(rows.first?["moved"] as? Int, 1, jobs.stdout)
        let first = bs.split(separator: ",").first.map(String.init) ?? bs
        let one = try runProcess(binary, ["dlq", "jobs", "--broker", "kafka://" + first, "--json"], env: box.environment, limit: 60)
        XCTAssertEqual((try? JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]])?.count, 1, one.stdout + one.stderr)
        _ = cluster
    }

    func testSagaByCorrelationIDThroughALocalIndexOfTheCluster() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:3", "payments:2"])
        let url = "kafka://" + cluster.bootstrap
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "1", "-q", "-H", "correlation-id=ord-7", "-H", "event-type=OrderPlaced"],
                                input: "{\"order\":7}\n").status, 0)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "payments", "-p", "0", "-q", "-H", "correlation-id=ord-7", "-H", "event-type=PaymentDeclined"],
                                input: "{\"order\":7,\"reason\":\"card\"}\n").status, 0)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "2", "-q", "-H", "correlation-id=ord-8", "-H", "event-type=OrderPlaced"],
                                input: (1...30).map { "{\"order\":8,\"n\":\($0)}" }.joined(separator: "\n") + "\n").status, 0)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "1", "-q"],
                                input: "{\"type\":\"OrderCancelled\",\"correlationId\":\"ord-7\"}\n").status, 0)

        let saga = try runProcess(binary, ["saga", "ord-7", "--broker", url, "--json"], env: box.environment, limit: 60)
        XCTAssertEqual(saga.status, 0, saga.stderr)
        let timeline = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(saga.stdout.utf8)) as? [String: Any], saga.stdout)
        XCTAssertEqual(timeline["source"] as? String, "index", saga.stdout)
        let items = try XCTUnwrap(timeline["items"] as? [[String: Any]])
        XCTAssertEqual(items.compactMap { $0["label"] as? String }.sorted(), ["OrderCancelled", "OrderPlaced", "PaymentDeclined"], saga.stdout)
        XCTAssertEqual(Set(items.compactMap { $0["topic"] as? String }), ["orders", "payments"])
        // The index is a local file under the state directory, named after the servers and the cluster's id.
        let indexFiles = try FileManager.default.contentsOfDirectory(atPath: box.path("state/evtop/index"))
        XCTAssertEqual(indexFiles.filter { $0.hasSuffix(".sqlite") }.count, 1, "\(indexFiles)")
        XCTAssertTrue(indexFiles.contains { $0.hasPrefix("kafka-") && $0.count > "kafka-.sqlite".count + 8 }, "\(indexFiles)")

        let list = try runProcess(binary, ["saga", "--broker", url, "--json"], env: box.environment, limit: 60)
        XCTAssertEqual(list.status, 0, list.stderr)
        let listed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set((listed["sagas"] as? [[String: Any]] ?? []).compactMap { $0["correlationID"] as? String }), ["ord-7", "ord-8"])

        let missing = try runProcess(binary, ["saga", "ord-nope", "--broker", url], env: box.environment, limit: 60)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no records or spans with correlation ID ord-nope (index)"), missing.stderr)

        // An index file that cannot be opened: the bounded scan finds the saga and says why.
        let other = try Sandbox()
        try FileManager.default.createDirectory(atPath: other.path("state/evtop"), withIntermediateDirectories: true)
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: other.path("state/evtop/index")))
        let scanned = try runProcess(binary, ["saga", "ord-7", "--broker", url, "--json"], env: other.environment, limit: 60)
        XCTAssertEqual(scanned.status, 0, scanned.stderr)
        let scannedTimeline = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(scanned.stdout.utf8)) as? [String: Any], scanned.stdout)
        XCTAssertEqual((scannedTimeline["items"] as? [Any])?.count, 3, scanned.stdout)
        XCTAssertTrue((scannedTimeline["source"] as? String ?? "").hasPrefix("no index ("), scanned.stdout)
        _ = cluster
    }

    func testBrokenURLsAndUnreachableBrokersAreClearErrors() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let bad = try runProcess(binary, ["topics", "--broker", "kafka://localhost"], env: box.environment)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("is not host:port"), bad.stderr)
        let down = try runProcess(binary, ["topics", "--broker", "kafka://127.0.0.1:1", "--interval", "0"], env: box.environment, limit: 30)
        XCTAssertNotEqual(down.status, 0)
        XCTAssertTrue(down.stderr.contains("broker unavailable") && down.stderr.contains("127.0.0.1:1"), down.stderr)
        // The one promised line, not librdkafka's log before it (that goes to the log file).
        XCTAssertEqual(down.stderr.split(separator: "\n").count, 1, down.stderr)
        let lag = try runProcess(binary, ["lag", "--broker", "kafka://127.0.0.1:1", "--window", "0"], env: box.environment, limit: 30)
        XCTAssertEqual(lag.status, 3)
        XCTAssertEqual(lag.stderr.split(separator: "\n").count, 1, lag.stderr)
        let badProperty = try runProcess(binary, ["topics", "--broker", "kafka://127.0.0.1:1", "-X", "no.such.thing=1"], env: box.environment)
        XCTAssertNotEqual(badProperty.status, 0)
        XCTAssertTrue(badProperty.stderr.contains("no.such.thing"), badProperty.stderr)
    }

    func testDemoRunsOnKafka() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:3", "payments:3", "inventory:3", "shipments:3", "orders.DLT:1", "payments.DLT:1"])
        let url = "kafka://" + cluster.bootstrap
        let demo = try runProcess(binary, ["demo", "--broker", url, "--headless", "--duration", "4", "--rate", "30"],
                                  env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        XCTAssertTrue(demo.stdout.contains("attach with: evtop --broker \(url)"), demo.stdout)
        let topics = try runProcess(binary, ["topics", "--broker", url, "--json", "--interval", "0"], env: box.environment)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(topics.stdout.utf8)) as? [[String: Any]], topics.stderr)
        XCTAssertGreaterThan(rows.first { $0["topic"] as? String == "orders" }?["total"] as? Int ?? 0, 0)
        let lag = try runProcess(binary, ["lag", "--broker", url, "--group", "payment-service", "--json"], env: box.environment)
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lag.stdout.utf8)) as? [[String: Any]], lag.stderr)
        XCTAssertEqual(groups.first?["topics"] as? [String], ["inventory", "orders"])
        _ = cluster
    }

    // MARK: - Cancel while every broker is down

    /// A requeue running in the background, its stderr (progress) in a file.
    final class BackgroundRequeue {
        let process = Process()
        let stderrPath: String
        init(_ binary: String, _ args: [String], env: [String: String], stderrPath: String) throws {
            self.stderrPath = stderrPath
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = args
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            try process.run()
        }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        /// Polls until `condition` holds on stderr, for at most `limit` seconds.
        func waitFor(_ what: String, limit: Double, _ condition: (String) -> Bool) {
            let deadline = Date().addingTimeInterval(limit)
            while Date() < deadline, !condition(stderr) { usleep(100_000) }
            XCTAssertTrue(condition(stderr), "\(what): \(stderr.suffix(600))")
        }
        /// True when the process ended within `limit` seconds.
        func ended(within limit: Double) -> Bool {
            let deadline = Date().addingTimeInterval(limit)
            while Date() < deadline, process.isRunning { usleep(50_000) }
            return !process.isRunning
        }
        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
    }

    func testCancelWhileEveryBrokerIsDownStopsTheJobAndResumeLandsEachLetterOnce() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:3", "orders.DLT:2"])
        let bs = cluster.bootstrap
        let letters = (0..<400).map { "{\"n\":\($0)}" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders.DLT", "-q", "-H", "kafka_dlt-original-topic=orders"], input: letters).status, 0)
        let requeue = ["dlq", "requeue", "--broker", "kafka://" + bs, "--dlq-topic", "orders.DLT", "--yes", "--rate", "200", "--max", "400"]

        // 1. Every broker goes down mid-job: the job says it waits; one SIGINT stops it (not after the outage).
        let first = try BackgroundRequeue(binary, requeue, env: box.environment, stderrPath: box.path("first.err"))
        first.waitFor("the job moved some letters", limit: 60) { $0.contains("moved ") && !$0.contains("moved 0/") }
        for b in 1...3 { XCTAssertEqual(cluster.command("down \(b)"), "ok") }
        first.waitFor("the job says it waits for the broker", limit: 60) { $0.contains("waiting for the broker since") }
        kill(first.process.processIdentifier, SIGINT)
        XCTAssertTrue(first.ended(within: 20), "one SIGINT stops the job while every broker is down: \(first.stderr.suffix(400))")
        if !first.process.isRunning { XCTAssertEqual(first.process.terminationStatus, 130, "cancelled") }

        // 2. Brokers back: finish what is in doubt, then requeue the rest.
        for b in 1...3 { XCTAssertEqual(cluster.command("up \(b)"), "ok") }
        let resumed = try runProcess(binary, ["dlq", "resume", "--broker", "kafka://" + bs], env: box.environment, limit: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)

        // 3. Again, and two SIGINTs at once: the second ends the process at once, by SIGINT.
        let second = try BackgroundRequeue(binary, requeue, env: box.environment, stderrPath: box.path("second.err"))
        second.waitFor("the second job moved some letters", limit: 60) { $0.contains("moved ") && !$0.contains("moved 0/") }
        for b in 1...3 { XCTAssertEqual(cluster.command("down \(b)"), "ok") }
        second.waitFor("the second job waits for the broker", limit: 60) { $0.contains("waiting for the broker since") }
        kill(second.process.processIdentifier, SIGINT)
        usleep(30_000)
        kill(second.process.processIdentifier, SIGINT)
        XCTAssertTrue(second.ended(within: 20), "two SIGINTs end the process: \(second.stderr.suffix(400))")
        if !second.process.isRunning {
            // The first may already have stopped the job (exit 130); else the second ends it by SIGINT, as a shell expects.
            let byFirst = second.process.terminationReason == .exit && second.process.terminationStatus == 130
            let bySecond = second.process.terminationReason == .uncaughtSignal && second.process.terminationStatus == SIGINT
            XCTAssertTrue(byFirst || bySecond, "\(second.process.terminationReason.rawValue) \(second.process.terminationStatus)")
        }

        // 4. Brokers back: resume and requeue the rest; every letter is in orders exactly once.
        for b in 1...3 { XCTAssertEqual(cluster.command("up \(b)"), "ok") }
        let resumedAgain = try runProcess(binary, ["dlq", "resume", "--broker", "kafka://" + bs], env: box.environment, limit: 120)
        XCTAssertEqual(resumedAgain.status, 0, resumedAgain.stderr)
        let rest = try runProcess(binary, ["dlq", "requeue", "--broker", "kafka://" + bs, "--dlq-topic", "orders.DLT", "--yes"],
                                  env: box.environment, limit: 120)
        XCTAssertEqual(rest.status, 0, rest.stderr)
        let read = try kcat(["-C", "-b", bs, "-t", "orders", "-e", "-q", "-f", "%h\n"])
        var copies: [String: Int] = [:]
        for line in read.stdout.split(separator: "\n") {
            guard let field = line.split(separator: ",").first(where: { $0.hasPrefix("evtop-redrive-id=") }) else { continue }
            copies[String(field), default: 0] += 1
        }
        XCTAssertEqual(copies.count, 400, "every letter landed")
        XCTAssertEqual(Set(copies.values), [1], "each exactly once: \(copies.filter { $0.value > 1 }.prefix(5))")
    }

    func testCtrlCEndsACommandWaitingForAnUnreachableBroker() throws {
        // requeue waits up to 5 s for the cluster to say its id; Ctrl-C must not wait for that.
        let binary = try evtopBinary()
        let box = try Sandbox()
        let p = try BackgroundRequeue(binary, ["dlq", "requeue", "--broker", "kafka://127.0.0.1:1", "--dlq-topic", "x", "--yes"],
                                      env: box.environment, stderrPath: box.path("err"))
        usleep(700_000)
        XCTAssertTrue(p.process.isRunning, "still waiting for the broker: \(p.stderr)")
        kill(p.process.processIdentifier, SIGINT)
        p.process.waitUntilExit()
        XCTAssertEqual(p.process.terminationReason, .uncaughtSignal, "ended by Ctrl-C, not by its own timeout: \(p.stderr)")
        XCTAssertEqual(p.process.terminationStatus, SIGINT)
        XCTAssertFalse(p.stderr.contains("did not say its identity"), "it did not run on to its error: \(p.stderr)")
    }
}
