import Foundation
import XCTest

/// Secrets typed where evtop does not expect them (a mistyped property name, credentials in a URL, a
/// property with a typo in its `=`) never reach stdout, stderr or the log file, while the error still
/// says what is wrong (issue 16 item 10).
final class SecretsEndToEndTests: XCTestCase {
    static let secret = "SECRET123"

    /// Every log file under the sandbox, concatenated.
    func logs(_ box: Sandbox) -> String {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: box.root.path)) ?? []
        return files.filter { $0.hasSuffix(".log") }.map { (try? String(contentsOfFile: box.path($0), encoding: .utf8)) ?? "" }.joined()
    }

    /// Runs evtop with `args` and checks: it fails, the error names `mentions`, and the secret is nowhere.
    func assertRefusedWithoutSecret(_ args: [String], mentions: [String], box: Sandbox, limit: Double = 60,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runProcess(try evtopBinary(), args, env: box.environment, limit: limit)
        let shown = "\(args.joined(separator: " ")) → status \(r.status)\nstdout: \(r.stdout)\nstderr: \(r.stderr)"
        XCTAssertNotEqual(r.status, 0, shown, file: file, line: line)
        for part in mentions {
            XCTAssertTrue(r.stderr.contains(part), "the error should say '\(part)': \(shown)", file: file, line: line)
        }
        XCTAssertFalse(r.stdout.contains(Self.secret), "secret on stdout: \(shown)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains(Self.secret), "secret on stderr: \(shown)", file: file, line: line)
        XCTAssertFalse(logs(box).contains(Self.secret), "secret in the log file after \(args.joined(separator: " "))", file: file, line: line)
    }

    func testAMistypedPropertyNameNeverShowsItsValue() throws {
        let box = try Sandbox()
        // Unknown to librdkafka: a secret's name with a typo is still a secret.
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:1", "-X", "sasl.pasword=\(Self.secret)"],
                                       mentions: ["sasl.pasword", "unknown property"], box: box)
        try assertRefusedWithoutSecret(["lag", "--broker", "kafka://127.0.0.1:1", "--group", "g", "-X", "ssl.keystore.pasword=\(Self.secret)"],
                                       mentions: ["ssl.keystore.pasword"], box: box)
        // A known secret beside a refused property: librdkafka's text is scrubbed, the refused one named.
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:1", "-X", "sasl.password=\(Self.secret)",
                                        "-X", "security.protocol=bogus"], mentions: ["security.protocol"], box: box)
        // Secrets librdkafka warns about (SASL settings without a SASL protocol): its log lines stay clean.
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:1", "-X", "sasl.oauthbearer.config=principal=\(Self.secret)",
                                        "-X", "sasl.mechanism=PLAIN", "-X", "sasl.password=\(Self.secret)"], mentions: ["broker unavailable"], box: box)
        // `:` for `=`: the whole argument may be a secret.
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:1", "-X", "sasl.password:\(Self.secret)"],
                                       mentions: ["-X takes key=value"], box: box)
    }

    func testCredentialsInAURLAreNeverShown() throws {
        let box = try Sandbox()
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://u:\(Self.secret)@127.0.0.1:9092"],
                                       mentions: ["kafka://***@127.0.0.1:9092", "user or password", "-X (sasl.username, sasl.password)"], box: box)
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:9092?sasl.password=\(Self.secret)"],
                                       mentions: ["sasl.password=***", "no parameters", "-X key=value"], box: box)
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://h1:9092,u:\(Self.secret)@h2:9092"],
                                       mentions: ["user or password"], box: box)
        // A source evtop does not know yet (RabbitMQ's URLs carry credentials this way).
        // RabbitMQ: nothing listens on port 1, so the error names the server, never the password.
        try assertRefusedWithoutSecret(["dlq", "list", "--broker", "amqp://guest:\(Self.secret)@127.0.0.1:1/vhost",
                                        "--management", "http://127.0.0.1:1"],
                                       mentions: ["127.0.0.1:1"], box: box)
        try assertRefusedWithoutSecret(["topics", "--broker", "sqlite://u:\(Self.secret)@host/x.db"], mentions: ["local file"], box: box)
        // No scheme at all: the hint must not repeat the password either.
        try assertRefusedWithoutSecret(["topics", "--broker", "u:\(Self.secret)@127.0.0.1:9092"], mentions: ["127.0.0.1:9092"], box: box)
        try assertRefusedWithoutSecret(["demo", "--broker", "kafka://u:\(Self.secret)@127.0.0.1:9092", "--headless", "--duration", "1"],
                                       mentions: ["user or password"], box: box)
    }

    func testSecretsInAConfigContextAreNeverShown() throws {
        let box = try Sandbox()
        try FileManager.default.createDirectory(atPath: box.path("config/evtop"), withIntermediateDirectories: true)
        try """
        contexts:
          url:
            broker: kafka://ops:\(Self.secret)@127.0.0.1:9092
          typo:
            broker: kafka://127.0.0.1:1
            properties:
              sasl.username: ops
              sasl.passwrd: \(Self.secret)
          query:
            broker: kafka://127.0.0.1:9092?password=\(Self.secret)
        """.write(toFile: box.path("config/evtop/config.yaml"), atomically: true, encoding: .utf8)
        try assertRefusedWithoutSecret(["topics", "--context", "url"], mentions: ["user or password"], box: box)
        try assertRefusedWithoutSecret(["topics", "--context", "typo"], mentions: ["sasl.passwrd"], box: box)
        try assertRefusedWithoutSecret(["lag", "--context", "query"], mentions: ["no parameters"], box: box)

        // A config file broken on the line of a secret: the error names the file and line, not the value.
        try """
        contexts:
          broken:
            broker: kafka://127.0.0.1:1
            properties:
              sasl.password: "\(Self.secret)
        """.write(toFile: box.path("broken.yaml"), atomically: true, encoding: .utf8)
        try assertRefusedWithoutSecret(["topics", "--config", box.path("broken.yaml"), "--context", "broken"], mentions: ["broken.yaml"], box: box)
    }

    /// A requeue on a live cluster with a password among the properties: its report, `--json` outputs,
    /// the journal's audit trail (`source`) and the log file never hold it.
    func testARequeueWithAPasswordKeepsItOutOfJSONTheJournalAndTheLog() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:1", "orders.DLT:1"])
        XCTAssertEqual(try kcat(["-P", "-b", cluster.bootstrap, "-t", "orders.DLT", "-p", "0", "-q",
                                 "-H", "kafka_dlt-original-topic=orders", "-H", "kafka_dlt-original-partition=0",
                                 "-H", "kafka_dlt-original-offset=1", "-H", "kafka_dlt-exception-fqcn=java.lang.IllegalStateException"],
                                input: "{\"order\":1}\n{\"order\":2}\n").status, 0)
        let props = ["-X", "sasl.username=ops", "-X", "sasl.password=\(Self.secret)", "-X", "ssl.key.password=\(Self.secret)-key"]
        let broker = ["--broker", "kafka://" + cluster.bootstrap]
        var outputs: [RunResult] = []
        for args in [["dlq", "requeue"] + broker + props + ["--dlq-topic", "orders.DLT", "--yes", "--json"],
                     ["dlq", "list"] + broker + props + ["--json"],
                     ["dlq", "jobs"] + broker + props + ["--json"],
                     ["topics"] + broker + props + ["--json", "--interval", "0"]] {
            let r = try runProcess(binary, args, env: box.environment, limit: 120)
            XCTAssertEqual(r.status, 0, "\(args.joined(separator: " ")): \(r.stderr)")
            outputs.append(r)
        }
        let jobs = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outputs[2].stdout.utf8)) as? [[String: Any]], outputs[2].stdout)
        XCTAssertEqual(jobs.first?["source"] as? String, "kafka://" + cluster.bootstrap.split(separator: ",").sorted().joined(separator: ","),
                       outputs[2].stdout)
        XCTAssertEqual(jobs.first?["moved"] as? Int, 2, outputs[2].stdout)
        for r in outputs {
            XCTAssertFalse(r.stdout.contains(Self.secret) || r.stderr.contains(Self.secret), r.stdout + r.stderr)
        }
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: box.root.path)) ?? []
        for file in files where !file.hasSuffix("-wal") && !file.hasSuffix("-shm") {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: box.path(file)))) ?? Data()
            XCTAssertNil(data.range(of: Data(Self.secret.utf8)), "the secret is in \(file)")
        }
        _ = cluster
    }

    func testASecretPropertyOfAWorkingClientStaysOutOfLogsAndStderr() throws {
        let box = try Sandbox()
        // librdkafka logs its connection failures (to the log file); the password must not be among them.
        try assertRefusedWithoutSecret(["topics", "--broker", "kafka://127.0.0.1:1", "-X", "security.protocol=sasl_plaintext",
                                        "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=ops", "-X", "sasl.password=\(Self.secret)"],
                                       mentions: ["broker unavailable"], box: box)
        XCTAssertTrue(logs(box).contains("evtop.kafka"), "librdkafka's lines are in the log file")
    }
}
