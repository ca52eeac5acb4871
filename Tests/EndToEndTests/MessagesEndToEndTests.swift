import Foundation
import XCTest

/// `kcat -P` with raw bytes on stdin (binary keys, escape sequences).
private func kcatBytes(_ args: [String], _ input: [UInt8]) throws -> RunResult {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat") else { throw XCTSkip("kcat is not installed") }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("kcat-\(UUID().uuidString).bin")
    try Data(input).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try runProcess("/usr/bin/kcat", args + ["-l", file.path], limit: 60)
}

/// A topic's messages on Kafka (librdkafka's mock cluster), with kcat writing them and reading them back
/// as the reference: `evtop messages` and the messages view.
final class MessagesEndToEndTests: XCTestCase {
    /// Offsets and timestamps of a partition as kcat reads them.
    private func kcatPositions(_ bs: String, _ topic: String, _ partition: Int) throws -> [(offset: Int64, ms: Int64)] {
        let read = try kcat(["-C", "-b", bs, "-t", topic, "-p", "\(partition)", "-o", "beginning", "-e", "-q", "-f", "%o %T\\n"])
        XCTAssertEqual(read.status, 0, read.stderr)
        return read.stdout.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let o = Int64(parts[0]), let t = Int64(parts[1]) else { return nil }
            return (o, t)
        }
    }

    private func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    private func offsets(_ docs: [[String: Any]]) -> [String] {
        docs.compactMap { d in (d["partition"] as? Int).flatMap { p in (d["offset"] as? Int).map { "\(p)@\($0)" } } }.sorted()
    }

    func testSeekByOffsetAndTimeFiltersAndHostileRecordsOnTheMockCluster() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:2", "big:1"])
        let bs = cluster.bootstrap
        let url = "kafka://" + bs
        // Two batches a second and more apart: the second one's first timestamp is where a seek by time lands.
        for p in 0..<2 {
            let lines = (0..<3).map { "ord-\(p)\($0)|{\"type\":\"OrderPlaced\",\"orderId\":\"ord-\(p)\($0)\",\"amount\":\(10 * $0)}" }
            XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "\(p)", "-q", "-K", "|", "-H", "source=batch-a"],
                                    input: lines.joined(separator: "\n") + "\n").status, 0)
        }
        Thread.sleep(forTimeInterval: 1.3)
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "0", "-q", "-K", "|", "-H", "source=batch-b", "-H", "correlation-id=ord-77"],
                                input: "ord-77|{\"type\":\"OrderCancelled\",\"orderId\":\"ord-77\",\"amount\":250}\n").status, 0)
        // A binary key, escape sequences in the key, a header and the value; then a 5 MB value.
        var hostile: [UInt8] = [0xFF, 0x00, 0x1B, 0x5B, 0x32, 0x4A]
        hostile += Array("|\u{1B}]0;pwned\u{07}{\"type\":\"Evil\"}\n".utf8)
        XCTAssertEqual(try kcatBytes(["-P", "-b", bs, "-t", "orders", "-p", "1", "-q", "-K", "|", "-H", "x-evil=\u{1B}[31mred"], hostile).status, 0)
        let big = "big|" + String(repeating: "x", count: 5 * 1024 * 1024) + "\n"
        // On a topic of its own: the mock cluster keeps about 5 MB a partition, and would drop the others for it.
        let sent = try kcat(["-P", "-b", bs, "-t", "big", "-p", "0", "-q", "-K", "|", "-X", "message.max.bytes=10000000"], input: big)
        XCTAssertEqual(sent.status, 0, sent.stderr)

        // kcat's view of the partitions: the reference for every answer below.
        let p0 = try kcatPositions(bs, "orders", 0), p1 = try kcatPositions(bs, "orders", 1)
        XCTAssertEqual(p0.count, 4)
        XCTAssertEqual(p1.count, 4)
        let secondBatch = try XCTUnwrap(p0.last?.ms)
        let atOrAfter = (p0.map { ("0", $0) } + p1.map { ("1", $0) }).filter { $0.1.ms >= secondBatch }.map { "\($0.0)@\($0.1.offset)" }.sorted()

        func messages(_ args: [String]) throws -> RunResult {
            try runProcess(binary, ["messages", "orders", "--broker", url] + args, env: box.environment, limit: 60)
        }
        // By time, by offset, from the end.
        let byTime = try messages(["--from", "@\(secondBatch)", "--jsonl", "--limit", "0"])
        XCTAssertEqual(byTime.status, 0, byTime.stderr)
        XCTAssertEqual(offsets(jsonLines(byTime.stdout)), atOrAfter, byTime.stdout.prefix(2_000).description)
        let byOffset = try messages(["--partition", "0", "--from", "2", "--jsonl"])
        XCTAssertEqual(offsets(jsonLines(byOffset.stdout)), ["0@2", "0@3"])
        let lastOne = try messages(["--from=-1", "--jsonl"])
        XCTAssertEqual(offsets(jsonLines(lastOne.stdout)), ["0@3", "1@3"])

        // Each filter kind and its negation, against what kcat wrote.
        let cases: [(String, [String])] = [
            ("key=ord-77", ["0@3"]),
            ("header:source=batch-a", ["0@0", "0@1", "0@2", "1@0", "1@1", "1@2"]),
            ("header:x-evil", ["1@3"]),
            ("/amount>=20", ["0@2", "0@3", "1@2"]),
            ("type=OrderCancelled", ["0@3"]),
            ("cid=ord-77", ["0@3"]),
        ]
        let all = (p0.map { "0@\($0.offset)" } + p1.map { "1@\($0.offset)" }).sorted()
        for (filter, expected) in cases {
            let hit = try messages(["--filter", filter, "--jsonl", "--limit", "0"])
            XCTAssertEqual(offsets(jsonLines(hit.stdout)), expected, filter + "\n" + hit.stderr)
            XCTAssertTrue(hit.stderr.contains("records read matched"), hit.stderr)
            let miss = try messages(["--filter", "!" + filter, "--jsonl", "--limit", "0"])
            XCTAssertEqual(offsets(jsonLines(miss.stdout)), all.filter { !expected.contains($0) }, "!" + filter)
        }
        let none = try messages(["--filter", "key=nobody", "--limit", "0"])
        XCTAssertEqual(none.status, 1, "a filter that matched nothing exits 1")

        // The binary key and the escapes come back byte for byte in JSON (base64), and inert as text.
        let evil = try XCTUnwrap(jsonLines(try messages(["--filter", "header:x-evil", "--jsonl"]).stdout).first)
        XCTAssertEqual((evil["key"] as? [String: Any])?["base64"] as? String, Data([0xFF, 0x00, 0x1B, 0x5B, 0x32, 0x4A]).base64EncodedString())
        let text = try messages(["--partition", "1", "--from", "3", "--limit", "1"])
        XCTAssertFalse(text.stdout.contains("\u{1B}") || text.stdout.contains("\u{07}"), text.stdout)
        XCTAssertTrue(text.stdout.contains("key=0xff001b5b324a"), text.stdout)
        // The 5 MB value whole in JSON.
        let bigRead = try runProcess(binary, ["messages", "big", "--broker", url, "--jsonl"], env: box.environment, limit: 60)
        let bigDoc = try XCTUnwrap(jsonLines(bigRead.stdout).first, bigRead.stderr)
        XCTAssertEqual(((bigDoc["value"] as? [String: Any])?["text"] as? String)?.utf8.count, 5 * 1024 * 1024)

        // Mistakes are one clear line each.
        let noTopic = try runProcess(binary, ["messages", "nope", "--broker", url], env: box.environment, limit: 60)
        XCTAssertNotEqual(noTopic.status, 0)
        XCTAssertTrue(noTopic.stderr.contains("no topic nope"), noTopic.stderr)
        let badSeek = try messages(["--from", "yesterday"])
        XCTAssertTrue(badSeek.stderr.contains("cannot seek to 'yesterday'"), badSeek.stderr)
        _ = cluster
    }

    func testTheMessagesViewTailsWhatKcatProducesAndOpensARecordAndItsSaga() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let cluster = try MockClusterProcess(topics: ["orders:2"])
        let bs = cluster.bootstrap
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "0", "-q", "-H", "correlation-id=ord-1", "-H", "event-type=OrderPlaced"],
                                input: "{\"order\":1}\n").status, 0)
        let session = try TmuxSession(width: 120, height: 30, command: "\(binary) --broker kafka://\(bs) --refresh 0.5; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("the topics") { $0.contains("orders") && $0.contains("● live") }
        session.send(literal: "m")
        session.waitFor("the messages of orders") { $0.contains("orders · newest first") && $0.contains("ord-1") }
        session.send(literal: "f")
        session.waitFor("tailing") { $0.contains("● tailing") }
        // kcat produces while the view is open: the records appear at the top.
        for n in 2...4 {
            XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "\(n % 2)", "-q", "-H", "correlation-id=ord-\(n)",
                                     "-H", "event-type=OrderPaid"], input: "{\"order\":\(n)}\n").status, 0)
        }
        let screen = session.waitFor("the tailed records", limit: 30) { $0.contains("ord-4") && $0.contains("ord-3") && $0.contains("ord-2") }
        let lines = screen?.split(separator: "\n") ?? []
        XCTAssertLessThan(lines.firstIndex { $0.contains("ord-4") } ?? 99, lines.firstIndex { $0.contains("ord-1") } ?? 0, "newest first")
        session.send(literal: "f")
        // The newest record's detail, then its saga.
        session.send(literal: "g")
        session.sendKeys("Enter")
        session.waitFor("the record's detail") { $0.contains("Headers (2)") && $0.contains("\"order\" : 4") }
        session.send(literal: "c")
        session.waitFor("its saga", limit: 60) { $0.contains("ord-4") && $0.contains("OrderPaid") }
        session.sendKeys("Escape")
        session.waitFor("back on the record") { $0.contains("Headers (2)") }
        // Y copies the record as evtop messages --json prints it (tmux keeps OSC 52 in its buffer), :save writes it.
        try session.run(["set-option", "-s", "set-clipboard", "on"])
        session.send(literal: "Y")
        session.waitFor("the record copied") { $0.contains("copied the record as JSON") }
        let copied = try session.run(["show-buffer"]).stdout
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(copied.utf8)) as? NSDictionary, copied)
        XCTAssertEqual(doc["correlationId"] as? String, "ord-4")
        XCTAssertEqual((doc["value"] as? NSDictionary)?["text"] as? String, "{\"order\":4}")
        let printed = try runProcess(binary, ["messages", "orders", "--broker", "kafka://\(bs)", "--partition", "\(doc["partition"] as? Int ?? -1)",
                                              "--from", "\(doc["offset"] as? Int ?? -1)", "--limit", "1", "--json"], env: box.environment)
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [NSDictionary], [doc])
        let file = box.path("ord-4.json")
        session.send(literal: ":save \(file)")
        session.sendKeys("Enter")
        session.waitFor("saved") { $0.contains("as JSON to") }
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? NSDictionary, doc)
        session.sendKeys("Escape")
        session.waitFor("back on the list") { $0.contains("orders · newest first") }
        // Seek to the beginning: oldest first, the first record on top.
        session.send(literal: ":seek beginning")
        session.sendKeys("Enter")
        session.waitFor("oldest first from the beginning") { screen in
            let rows = screen.split(separator: "\n").filter { $0.contains("ord-") }
            return screen.contains("oldest first") && (rows.first?.contains("ord-1") ?? false)
        }
        // A burst faster than the tail reads: the positions it jumps over are counted, and on Kafka (where a
        // position may be a transaction marker, or compacted away) the count says it is at most that many.
        session.send(literal: "f")
        session.waitFor("tailing again") { $0.contains("● tailing") }
        let burst = (0..<3_000).map { "{\"burst\":\($0)}" }.joined(separator: "\n") + "\n"
        XCTAssertEqual(try kcat(["-P", "-b", bs, "-t", "orders", "-p", "0", "-q"], input: burst).status, 0)
        session.waitFor("an upper bound of what was skipped", limit: 30) {
            $0.contains("● tailing · up to ") && $0.contains(" skipped (faster than shown)") && $0.contains("{\"burst\":2999}")
        }
        session.send(literal: "q")
        session.waitFor("exit") { $0.contains("EXITED:0") }
        _ = cluster
    }
}
