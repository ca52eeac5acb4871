import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// `evtop doctor` on records an independent client wrote (kcat to librdkafka's mock cluster) and on the
/// embedded store: each record rule fires on the records that break it, with those records as evidence.
final class InsightsEndToEndTests: XCTestCase {
    /// Records written one partition at a time: the same set on Kafka and on the embedded store.
    struct Batch {
        var topic: String
        var partition: Int32
        var headers: [(String, String)] = []
        /// `key|value` lines.
        var lines: [String]
    }

    static func payment(_ n: Int, version: Int = 1, correlation: String? = nil, extra: String = "") -> String {
        let amount = version == 1 ? "\"amount\":1" : "\"amountCents\":100"
        return "\(correlation ?? "ord-\(n)")|{\"eventId\":\"e-\(n)\",\"schemaVersion\":\(version),\"correlationId\":\"\(correlation ?? "ord-\(n)")\",\"eventType\":\"PaymentAuthorized\",\(amount)\(extra)}"
    }

    /// A duplicate (e-3 twice), a second schema version with another field set, a 150 kB event, one
    /// correlation id on two partitions, events without ids, a command-named event, a request asking for a
    /// reply, and a letter that was requeued and dead-lettered again.
    static let batches: [Batch] = [
        Batch(topic: "payments", partition: 0, lines: (0..<30).map { payment($0) } + [payment(3)]),
        Batch(topic: "payments", partition: 1, lines: (100..<108).map { payment($0, version: 2) }),
        Batch(topic: "payments", partition: 2, lines: [payment(200, extra: ",\"notes\":\"" + String(repeating: "x", count: 150_000) + "\""),
                                                       payment(300, correlation: "ord-5")]),
        Batch(topic: "orders", partition: 0, lines: (0..<25).map { "o-\($0)|{\"correlationId\":\"o-\($0)\",\"eventType\":\"OrderPlaced\",\"schemaVersion\":1}" }),
        Batch(topic: "orders", partition: 1, lines: ["o-400|{\"eventId\":\"e-400\",\"correlationId\":\"o-400\",\"eventType\":\"ProcessPayment\",\"schemaVersion\":1}"]),
        Batch(topic: "orders", partition: 2, headers: [("reply-to", "quotes")],
              lines: ["o-401|{\"eventId\":\"e-401\",\"correlationId\":\"o-401\",\"eventType\":\"QuoteAsked\",\"schemaVersion\":1}"]),
        // A letter requeued twice into orders: two records with one evtop-redrive-id.
        Batch(topic: "orders", partition: 1, headers: [("evtop-redrive-id", "orders.DLT/0/9")],
              lines: (0..<2).map { "o-50\($0)|{\"eventId\":\"e-50\($0)\",\"correlationId\":\"o-50\($0)\",\"eventType\":\"OrderPlaced\",\"schemaVersion\":1}" }),
        Batch(topic: "orders.DLT", partition: 0,
              headers: [("kafka_dlt-original-topic", "payments"), ("kafka_dlt-original-partition", "0"), ("evtop-redrive-id", "payments.DLT/0/1")],
              lines: [payment(3)]),
    ]

    static let expected: Set<String> = ["duplicate-events", "schema-drift", "fat-events", "key-spread", "missing-identity",
                                        "command-named", "request-reply", "poison-loop", "reprocessed"]

    /// `evtop doctor --json ARGS` in the sandbox: its exit status and its document.
    func doctorJSON(_ args: [String], _ box: Sandbox) throws -> (status: Int32, json: [String: Any]) {
        let run = try runProcess(try evtopBinary(), ["doctor", "--json"] + args, env: box.environment, limit: 120)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "stdout: \(run.stdout.prefix(500)) stderr: \(run.stderr)")
        return (run.status, json)
    }

    /// `evtop doctor` on `url` for a second.
    func doctor(_ url: String, _ box: Sandbox, extra: [String] = []) throws -> (status: Int32, json: [String: Any]) {
        try doctorJSON(["--broker", url, "--window", "1"] + extra, box)
    }

    /// Writes the sandbox's config file.
    func writeConfig(_ text: String, _ box: Sandbox) throws {
        try FileManager.default.createDirectory(atPath: box.path("config/evtop"), withIntermediateDirectories: true)
        try text.write(toFile: box.path("config/evtop/config.yaml"), atomically: true, encoding: .utf8)
    }

    func rules(_ json: [String: Any]) -> Set<String> {
        Set(((json["findings"] as? [[String: Any]]) ?? []).compactMap { $0["rule"] as? String })
    }

    func finding(_ json: [String: Any], _ rule: String) -> [String: Any]? {
        ((json["findings"] as? [[String: Any]]) ?? []).first { $0["rule"] as? String == rule }
    }

    /// What both sources must show.
    func check(_ url: String, _ box: Sandbox) throws {
        let (status, json) = try doctor(url, box)
        XCTAssertEqual(status, 2, "errors found: exit 2")
        XCTAssertTrue(Self.expected.isSubset(of: rules(json)), "missing: \(Self.expected.subtracting(rules(json))) in \(rules(json))")
        XCTAssertNotNil(json["grade"] as? String)
        // The duplicate's evidence is the second copy, naming the first.
        let duplicate = try XCTUnwrap(finding(json, "duplicate-events"))
        let evidence = try XCTUnwrap((duplicate["evidence"] as? [[String: Any]])?.first)
        XCTAssertEqual(evidence["topic"] as? String, "payments")
        XCTAssertEqual(evidence["partition"] as? Int, 0)
        XCTAssertEqual(evidence["offset"] as? Int, 30)
        XCTAssertEqual(evidence["correlationId"] as? String, "ord-3")
        XCTAssertTrue((evidence["note"] as? String)?.contains("also at p0@3") == true, "\(evidence)")
        XCTAssertTrue((finding(json, "fat-events")?["summary"] as? String)?.contains("largest 150 kB") == true)
        let poison = try XCTUnwrap((finding(json, "poison-loop")?["evidence"] as? [[String: Any]])?.first)
        XCTAssertEqual(poison["kind"] as? String, "letter")
        XCTAssertEqual(poison["topic"] as? String, "orders.DLT")

        // Only one rule, at or above a severity; a config that suppresses it leaves nothing: exit 0.
        let only = try doctor(url, box, extra: ["--rule", "fat-events"])
        XCTAssertEqual(rules(only.json), ["fat-events"])
        XCTAssertEqual(only.status, 1)
        let errors = try doctor(url, box, extra: ["--min-severity", "error"])
        XCTAssertEqual(rules(errors.json), ["duplicate-events", "poison-loop", "reprocessed"])
        let config = """
            default-context: here
            contexts:
              here:
                broker: \(url)
                insights:
                  fat-event-bytes: 200000
                  disable: [command-named, request-reply, stuck-sagas]  # sagas of kcat's records time out after 30 s
                  suppress:
                    - rule: duplicate-events
                      topic: "pay*"
                    - topic: orders*
            """
        try writeConfig(config, box)
        defer { try? FileManager.default.removeItem(atPath: box.path("config/evtop/config.yaml")) }
        let quiet = try doctorJSON(["--window", "1"], box)
        XCTAssertEqual(rules(quiet.json), ["schema-drift", "key-spread"], "fat under 200 kB, names disabled, payments duplicates and orders* suppressed")
        XCTAssertEqual(quiet.status, 1)
    }

    func testEveryRecordRuleOnWhatKcatWroteToKafka() throws {
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["payments:3", "orders:3", "orders.DLT:1"])
        for batch in Self.batches {
            let headers = batch.headers.flatMap { ["-H", "\($0.0)=\($0.1)"] }
            let written = try kcat(["-P", "-b", cluster.bootstrap, "-t", batch.topic, "-p", "\(batch.partition)", "-K", "|", "-q"] + headers,
                                   input: batch.lines.joined(separator: "\n") + "\n")
            XCTAssertEqual(written.status, 0, written.stderr)
        }
        try check("kafka://" + cluster.bootstrap, box)
        _ = cluster
    }

    func testEveryRecordRuleOnTheEmbeddedStore() async throws {
        let box = try Sandbox()
        let path = box.path("insights.db")
        let log = try SQLiteLog(path: path)
        for (topic, partitions) in [("payments", Int32(3)), ("orders", 3), ("orders.DLT", 1)] { try await log.createTopic(topic, partitions: partitions) }
        var time = Int64(Date().timeIntervalSince1970 * 1000) - 10_000  // recent, as kcat's: no saga is old enough to time out
        for batch in Self.batches {
            let records = batch.lines.map { line -> OutgoingRecord in
                time += 1
                let bar = line.firstIndex(of: "|") ?? line.startIndex
                return OutgoingRecord(topic: batch.topic, partition: batch.partition, timestampMillis: time, key: Array(line[..<bar].utf8),
                                      headers: batch.headers.map { RecordHeader($0.0, $0.1) }, value: Array(line[line.index(after: bar)...].utf8))
            }
            _ = try await log.produce(records)
        }
        try check("sqlite:" + path, box)
    }

    func testNothingToSampleIsExitThreeNotHealthy() async throws {
        let box = try Sandbox()
        let path = box.path("empty.db")
        _ = try SQLiteLog(path: path)
        let (status, json) = try doctor("sqlite:" + path, box)
        XCTAssertEqual(status, 3)
        XCTAssertTrue(json["grade"] is NSNull || json["grade"] == nil, "no grade without data: \(json)")
        XCTAssertEqual(json["sampledRecords"] as? Int, 0)
        let text = try runProcess(try evtopBinary(), ["doctor", "--broker", "sqlite:" + path, "--window", "0"], env: box.environment)
        XCTAssertEqual(text.status, 3)
        XCTAssertTrue(text.stdout.contains("no data"), text.stdout)
        let bad = try runProcess(try evtopBinary(), ["doctor", "--broker", "kafka://", "--window", "0"], env: box.environment)
        XCTAssertEqual(bad.status, 3)
        XCTAssertTrue(bad.stderr.contains("Error"), bad.stderr)
        let rule = try runProcess(try evtopBinary(), ["doctor", "--rule", "nope"], env: box.environment)
        XCTAssertNotEqual(rule.status, 0)
        XCTAssertTrue(rule.stderr.contains("unknown rule 'nope'"), rule.stderr)
    }

    /// The demo's faults, each found by `evtop doctor` within two minutes; with every fault off (and no
    /// poison), nothing is found.
    func testDoctorFindsEachOfTheDemosFaultsAndNothingWithThemOff() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let faulty = try spawnProcess(binary, ["demo", "--headless", "--store", box.path("faulty.db"), "--duration", "150"], env: box.environment)
        let clean = try spawnProcess(binary, ["demo", "--headless", "--store", box.path("clean.db"), "--duration", "150",
                                              "--faults", "none", "--poison-rate", "0"], env: box.environment)
        defer {
            for p in [faulty, clean] where p.isRunning { p.terminate() }
            faulty.waitUntilExit()
            clean.waitUntilExit()
        }
        let injected: Set<String> = ["duplicate-events", "command-named", "schema-drift", "fat-events"]
        var found: Set<String> = []
        var last: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !injected.isSubset(of: found) {
            Thread.sleep(forTimeInterval: 5)
            guard FileManager.default.fileExists(atPath: box.path("faulty.db")) else { continue }
            let run = try doctor("sqlite:" + box.path("faulty.db"), box)
            last = run.json
            found = rules(run.json)
        }
        XCTAssertTrue(injected.isSubset(of: found), "not found within two minutes: \(injected.subtracting(found)); findings: \(last)")
        XCTAssertEqual(finding(last, "duplicate-events")?["subject"] as? String, "payments")
        XCTAssertEqual(finding(last, "fat-events")?["subject"] as? String, "orders")

        let (status, json) = try doctor("sqlite:" + box.path("clean.db"), box)
        XCTAssertEqual(rules(json), [], "a demo without faults is clean: \(json)")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(json["grade"] as? String, "A")
        XCTAssertGreaterThan(json["sampledRecords"] as? Int ?? 0, 100)
    }

    /// In a real terminal: view 5 on the demo lists the duplicates; `enter` opens the saga of the duplicated
    /// record, esc comes back, and the fat event's evidence names the record.
    func testFromAFindingToItsEvidenceInATerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 140, height: 40,
                                      command: "\(binary) demo --store \(box.path("demo.db")) --rate 40; echo EXITED:$?", env: box.environment)
        session.waitFor("the demo's topics", limit: 45) { $0.contains("orders") && $0.contains("● live") }
        session.send(literal: "5")
        session.waitFor("a duplicate found", limit: 90) { $0.contains("duplicate-events") && $0.contains("Insights · grade") }
        // The filter leaves the duplicates' finding alone: its evidence shows below.
        session.send(literal: "/duplicate")
        session.sendKeys("Enter")
        guard let screen = session.waitFor("the duplicate's evidence", { $0.contains("├ evidence") && $0.contains("event-id e-") }) else { return }
        let line = screen.split(separator: "\n").first { $0.contains("›") && $0.contains("payments p") }
        XCTAssertNotNil(line, screen)
        session.sendKeys("Enter")
        guard let saga = session.waitFor("the duplicated record's saga", { $0.contains("PaymentAuthorized") && $0.contains("ord-") && !$0.contains("Insights") })
        else { return }
        XCTAssertTrue(saga.contains("esc back") || saga.contains("esc"), saga)
        session.sendKeys("Escape")
        session.waitFor("back on the insights") { $0.contains("Insights · grade") }
        session.sendKeys("Escape")  // clears the filter (waited for: an escape followed at once by `/` is read as alt-/)
        session.waitFor("the filter cleared") { $0.contains("Insights · grade") && !$0.contains("filter: duplicate") && $0.contains("schema-drift") }
        session.send(literal: "/fat")
        session.sendKeys("Enter")
        session.waitFor("the fat event's evidence", limit: 60) { $0.contains("fat-events") && $0.contains("OrderPlaced") && $0.contains("kB") }
        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }
    }

    /// Rules on the figures, not the records: a group kcat left behind with lag (Kafka); below, sagas past
    /// their timeout (the embedded store, the built-in OrderSaga's 30 s).
    func testAnAbandonedGroupOnKafka() throws {
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["payments:1"])
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "payments", "-K", "|", "-q"], input: (0..<30).map { Self.payment($0) }.joined(separator: "\n") + "\n").status, 0)
        let consumed = try kcat(["-G", "billing", "-b", bs, "-e", "-q", "-X", "auto.offset.reset=earliest", "payments"])
        XCTAssertEqual(consumed.status, 0, consumed.stderr)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "payments", "-K", "|", "-q"], input: Self.payment(30) + "\n").status, 0)
        let sagasWritten = Date()  // ord-0…30: OrderSaga sagas that never go past authorize-payment
        // The mock cluster cannot list groups: the context names it, as an operator would.
        try writeConfig("contexts:\n  k:\n    broker: kafka://\(bs)\n    groups: [billing]\n    insights:\n      abandoned-after-seconds: 1\n", box)
        let run = try doctorJSON(["--context", "k", "--window", "3", "--rule", "abandoned-group"], box)
        let json = run.json
        let abandoned = try XCTUnwrap(finding(json, "abandoned-group"), "\(json)")
        XCTAssertEqual(abandoned["subject"] as? String, "billing")
        // Kafka keeps no commit time: the age is what evtop watched, and says so.
        XCTAssertTrue((abandoned["summary"] as? String)?.contains("no commit for ≥ ") == true, "\(abandoned)")
        XCTAssertEqual(run.status, 1)

        // kcat writes records stamped now: the built-in OrderSaga's 30 s timeout has to pass for real.
        Thread.sleep(until: sagasWritten.addingTimeInterval(32))
        let stuck = try doctorJSON(["--context", "k", "--window", "0", "--rule", "stuck-sagas"], box).json
        let sagas = try XCTUnwrap(finding(stuck, "stuck-sagas"), "\(stuck)")
        XCTAssertTrue((sagas["summary"] as? String)?.hasPrefix("31 of 31 sagas timed out") == true, "\(sagas)")
        _ = cluster
    }

    func testStuckSagasAndAnAbandonedGroupOnTheStore() async throws {
        let box = try Sandbox()
        let path = box.path("stuck.db")
        let log = try SQLiteLog(path: path)
        try await log.createTopic("orders", partitions: 1)
        let hourAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        _ = try await log.produce((0..<3).map { i in
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: hourAgo + Int64(i), key: Array("ord-s\(i)".utf8),
                           headers: [RecordHeader("correlation-id", "ord-s\(i)"), RecordHeader("event-type", "OrderPlaced")],
                           value: Array("{\"eventId\":\"e-s\(i)\",\"schemaVersion\":1}".utf8))
        })
        let stuck = try doctor("sqlite:" + path, box, extra: ["--rule", "stuck-sagas"])
        let sagas = try XCTUnwrap(finding(stuck.json, "stuck-sagas"), "\(stuck.json)")
        XCTAssertTrue((sagas["summary"] as? String)?.hasPrefix("3 of 3 sagas timed out") == true, "\(sagas)")
        XCTAssertEqual(Set(((sagas["evidence"] as? [[String: Any]]) ?? []).compactMap { $0["saga"] as? String }), ["ord-s0", "ord-s1", "ord-s2"])

        // A group that committed 1 of 3 records, whose member then went (the store forgets it after 10 s).
        try await log.commit(group: "audit", member: "m-1", offsets: [TopicPartition("orders", 0): 1])
        try await Task.sleep(for: .seconds(SQLiteLog.memberLivenessWindow + 1.5))
        try writeConfig("contexts:\n  s:\n    broker: sqlite:\(path)\n    insights:\n      abandoned-after-seconds: 5\n", box)
        let run = try doctorJSON(["--context", "s", "--window", "0", "--rule", "abandoned-group"], box)
        let json = run.json
        let abandoned = try XCTUnwrap(finding(json, "abandoned-group"), "\(json)")
        XCTAssertEqual(abandoned["subject"] as? String, "audit")
        // The store keeps commit times: an age, not a lower bound.
        // The commit was 11.5 s before the doctor began; its run adds its own seconds.
        let summary = abandoned["summary"] as? String ?? ""
        let age = summary.firstMatch(of: /lag 2, no commit for (\d+)s/).flatMap { Int($0.1) }
        XCTAssertTrue((11...60).contains(age ?? 0), "\(abandoned)")
    }

    // MARK: rules on rates, growth and sagas: a writer runs during the doctor's window

    /// 20 sagas of the built-in OrderSaga, half of them declined: OrderPlaced, then PaymentDeclined.
    static let sagaBatches: [Batch] = [
        Batch(topic: "orders", partition: 0, lines: (0..<20).map {
            "fs-\($0)|{\"eventId\":\"e-fs\($0)\",\"correlationId\":\"fs-\($0)\",\"eventType\":\"OrderPlaced\",\"schemaVersion\":1}" }),
        Batch(topic: "payments", partition: 0, lines: (0..<10).map {
            "fs-\($0)|{\"eventId\":\"e-fd\($0)\",\"correlationId\":\"fs-\($0)\",\"eventType\":\"PaymentDeclined\",\"schemaVersion\":1}" }),
    ]

    /// One step of the writer: 20 records on `hot` p0, one on p1 and p2 every other step, a letter every fourth.
    static func writerStep(_ n: Int) -> [Batch] {
        var out = [Batch(topic: "hot", partition: 0, lines: (0..<20).map { "h-\(n)-\($0)|{\"eventId\":\"e-h\(n)-\($0)\",\"eventType\":\"Ticked\",\"schemaVersion\":1}" })]
        if n % 2 == 0 {
            for p in Int32(1)...2 { out.append(Batch(topic: "hot", partition: p, lines: ["c-\(n)|{\"eventId\":\"e-c\(n)-\(p)\",\"eventType\":\"Ticked\",\"schemaVersion\":1}"])) }
        }
        if n % 4 == 0 {
            out.append(Batch(topic: "orders.DLT", partition: 0, headers: [("kafka_dlt-original-topic", "orders")], lines: ["l-\(n)|{\"eventId\":\"e-l\(n)\"}"]))
        }
        return out
    }

    static let flowRules: Set<String> = ["hot-partition", "stagnant-dlq", "failing-sagas"]

    /// Runs the doctor for 14 s while `write` runs every 500 ms: the 10 s rates need ten seconds between the
    /// first and last snapshots, and on a loaded machine connecting and sampling take some of the window.
    func doctorWhileWriting(_ box: Sandbox, write: @escaping @Sendable (Int) throws -> Void) throws -> [String: Any] {
        let stop = LockedData()
        let writer = Thread {
            var n = 0
            while stop.get().isEmpty {
                try? write(n)
                n += 1
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        writer.start()
        defer { stop.set(Data([1])) }
        Thread.sleep(forTimeInterval: 1)
        let rules = Self.flowRules.sorted().flatMap { ["--rule", $0] }
        return try doctorJSON(["--context", "here", "--window", "14"] + rules, box).json
    }

    func checkFlows(_ json: [String: Any]) throws {
        XCTAssertEqual(rules(json), Self.flowRules, "\(json)")
        let hot = try XCTUnwrap(finding(json, "hot-partition"))
        XCTAssertEqual(hot["subject"] as? String, "hot p0")
        XCTAssertTrue((hot["summary"] as? String)?.contains("over 10s") == true, "the window the rate was measured over: \(hot)")
        XCTAssertTrue((finding(json, "failing-sagas")?["summary"] as? String)?.hasPrefix("50% of the 20 latest") == true, "\(json)")
        XCTAssertEqual(finding(json, "stagnant-dlq")?["subject"] as? String, "orders.DLT")
    }

    static func config(_ url: String) -> String {
        "contexts:\n  here:\n    broker: \(url)\n    insights:\n      stagnant-dlq-seconds: 1\n"
    }

    func testRatesGrowthAndSagasOnKafka() throws {
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["hot:3", "orders:1", "payments:1", "orders.DLT:1"])
        let bs = cluster.bootstrap
        @Sendable func produce(_ batch: Batch) throws {
            let headers = batch.headers.flatMap { ["-H", "\($0.0)=\($0.1)"] }
            _ = try kcat(["-P", "-b", bs, "-t", batch.topic, "-p", "\(batch.partition)", "-K", "|", "-q"] + headers,
                         input: batch.lines.joined(separator: "\n") + "\n")
        }
        for batch in Self.sagaBatches { try produce(batch) }
        try writeConfig(Self.config("kafka://" + bs), box)
        let json = try doctorWhileWriting(box) { n in for batch in Self.writerStep(n) { try produce(batch) } }
        try checkFlows(json)
        _ = cluster
    }

    func testRatesGrowthSagasAndRetentionOnTheStore() throws {
        let box = try Sandbox()
        let path = box.path("flows.db")
        let log = try SQLiteLog(path: path)
        @Sendable func produce(_ batches: [Batch]) {
            let done = DispatchSemaphore(value: 0)
            Task {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for batch in batches {
                    _ = try? await log.produce(batch.lines.map { line in
                        let bar = line.firstIndex(of: "|") ?? line.startIndex
                        return OutgoingRecord(topic: batch.topic, partition: batch.partition, timestampMillis: now, key: Array(line[..<bar].utf8),
                                              headers: batch.headers.map { RecordHeader($0.0, $0.1) }, value: Array(line[line.index(after: bar)...].utf8))
                    })
                }
                done.signal()
            }
            done.wait()
        }
        let setUp = DispatchSemaphore(value: 0)
        Task {
            for (topic, partitions) in [("hot", Int32(3)), ("orders", 1), ("payments", 1), ("orders.DLT", 1), ("ledger", 1)] {
                try? await log.createTopic(topic, partitions: partitions)
            }
            setUp.signal()
        }
        setUp.wait()
        produce(Self.sagaBatches)
        try writeConfig(Self.config("sqlite:" + path), box)
        let json = try doctorWhileWriting(box) { n in produce(Self.writerStep(n)) }
        try checkFlows(json)

        // Retention deleted records a group had not read: an error, with how many.
        produce([Batch(topic: "ledger", partition: 0, lines: (0..<100).map { "k|{\"eventId\":\"e-ledger\($0)\"}" })])
        let pruned = DispatchSemaphore(value: 0)
        Task {
            try? await log.commit(group: "ledger-svc", member: "m-1", offsets: [TopicPartition("ledger", 0): 10])
            _ = try? await log.pruneRecords(RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: 50), now: Date())
            pruned.signal()
        }
        pruned.wait()
        let risk = try doctor("sqlite:" + path, box, extra: ["--rule", "retention-risk"])
        let finding = try XCTUnwrap(finding(risk.json, "retention-risk"), "\(risk.json)")
        XCTAssertEqual(finding["subject"] as? String, "ledger-svc / ledger p0")
        XCTAssertEqual(finding["severity"] as? String, "error")
        XCTAssertTrue((finding["summary"] as? String)?.hasPrefix("40 records deleted before the group read them") == true, "\(finding)")
        XCTAssertEqual(risk.status, 2)
    }

    /// Retention on Kafka: librdkafka's mock cluster keeps about 5 MB a partition and moves the low watermark
    /// past older records, as retention does. A group that read one record is then behind the deleted ones.
    func testRetentionDeletingUnreadRecordsOnKafka() throws {
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["ledger:1"])
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "ledger", "-K", "|", "-q"], input: "first|{\"n\":0}\n").status, 0)
        XCTAssertEqual(try kcat(["-G", "ledger-svc", "-b", bs, "-e", "-q", "-c", "1", "-X", "auto.offset.reset=earliest", "ledger"]).status, 0)
        let pad = String(repeating: "y", count: 200)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "ledger", "-K", "|", "-q"],
                                input: (0..<40_000).map { "k\($0)|{\"n\":\($0),\"pad\":\"\(pad)\"}" }.joined(separator: "\n") + "\n").status, 0)
        try writeConfig("contexts:\n  k:\n    broker: kafka://\(bs)\n    groups: [ledger-svc]\n", box)
        let run = try doctorJSON(["--context", "k", "--window", "0", "--rule", "retention-risk"], box)
        let json = run.json
        let risk = try XCTUnwrap(finding(json, "retention-risk"), "\(json)")
        XCTAssertEqual(risk["subject"] as? String, "ledger-svc / ledger p0")
        XCTAssertEqual(risk["severity"] as? String, "error")
        XCTAssertTrue((risk["summary"] as? String)?.contains("records deleted before the group read them") == true, "\(risk)")
        XCTAssertEqual(run.status, 2)
        _ = cluster
    }
}
