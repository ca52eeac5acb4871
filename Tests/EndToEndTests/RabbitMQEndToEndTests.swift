import EventModel
import Foundation
@testable import RabbitMQLog
import XCTest

/// A private RabbitMQ node (Debian's rabbitmq-server with the management plugin) for this suite: its own
/// name, ports and data directory, started once and stopped at the end. Each test gets its own vhost.
/// pika, an independent client, publishes, rejects and drains, so RabbitMQ itself writes `x-death`.
final class RabbitMQEndToEndTests: RabbitNodeTestCase {

    /// A fresh vhost with the fixture's order flow: exchange `orders`, queue `billing` dead-lettering to
    /// `orders.dlx` → `billing.dlq`, queue `shipping` with no dead-letter exchange.
    func flow(_ name: String = #function) throws -> (node: RabbitNode, url: String) {
        guard let node = Self.node else { throw NSError(domain: "rabbitmq", code: 1, userInfo: [NSLocalizedDescriptionKey: Self.nodeError ?? "no RabbitMQ node"]) }
        let vhost = String(name.filter { $0.isLetter || $0.isNumber }.prefix(40))
        try node.client([node.managementURL, "mkvhost", vhost])
        let url = "amqp://guest:guest@127.0.0.1:\(node.amqpPort)/\(vhost)"
        try node.client([url, "setup"])
        return (node, url)
    }

    func log(_ url: String, management: String? = nil, queues: [String] = []) throws -> RabbitMQLog {
        let node = try XCTUnwrap(Self.node)
        return RabbitMQLog(settings: try RabbitMQSettings(url: url, management: management ?? node.managementURL, knownQueues: queues))
    }

    /// Polls until the management API's statistics show what `done` wants. They are sampled every second,
    /// but a loaded node (CI, after the kill test) can take far longer to publish a queue's first
    /// `message_stats`: the wait is generous because it ends as soon as the figures are there.
    func snapshot(_ log: RabbitMQLog, until done: (BrokerSnapshot) -> Bool) async throws -> BrokerSnapshot {
        var last = try await log.snapshot()
        for _ in 0..<360 where !done(last) {
            try await Task.sleep(for: .milliseconds(250))
            last = try await log.snapshot()
        }
        return last
    }

    func testQueuesAreTopicsConsumersAreGroupsAndTheDeadLetterQueueIsFoundFromItsArguments() async throws {
        let (node, url) = try flow()
        // RabbitMQ counts a queue's publishes from the publishing channel's statistics, and drops them if the
        // channel closes before they are collected (once a second, later on a loaded node): it stays 5 s.
        try node.client([url, "publish", "order.placed", "30", "--exchange", "orders", "--linger", "5"])
        try node.client([url, "reject", "billing", "7"])
        let log = try log(url)
        let snap = try await snapshot(log) { s in
            s.topics.first { $0.name == "billing.dlq" }?.retained == 7
                && s.topics.first { $0.name == "billing" }?.partitions.first?.published == 30
                // The head message's timestamp comes with a later statistics sample than the depth.
                && s.groups.first { $0.id == "billing" }?.reported[TopicPartition("billing", 0)]?.oldestPendingMillis != nil
        }
        let depths = Dictionary(uniqueKeysWithValues: snap.topics.map { ($0.name, $0.retained) })
        XCTAssertEqual(depths, ["billing": 23, "billing.dlq": 7, "shipping": 30])
        XCTAssertEqual(snap.deadLetterTopics, ["billing.dlq"], "billing names orders.dlx, which feeds billing.dlq")
        XCTAssertFalse(snap.topics[0].partitions[0].hasPositions, "a classic queue has a depth, not offsets")
        XCTAssertEqual(snap.topics.first { $0.name == "billing" }?.partitions.first?.published, 30)
        XCTAssertEqual(snap.groups.map(\.id), ["billing", "shipping"], "a DLQ is no consumer group")
        let billing = try XCTUnwrap(snap.groups.first { $0.id == "billing" }?.reported[TopicPartition("billing", 0)])
        XCTAssertEqual(billing.pending, 23)
        XCTAssertEqual(billing.inFlight, 0)
        XCTAssertEqual(billing.acknowledged, 0, "rejections are not acks")
        XCTAssertNotNil(billing.oldestPendingMillis, "pika sets the timestamp property")
        XCTAssertNil(snap.limitation)
        let identity = await log.identity()
        XCTAssertEqual(identity?.stem.hasPrefix("rabbitmq-evtop-"), true, "named after the cluster: \(identity?.stem ?? "nil")")
    }

    func testBrowsingReadsTheLettersWithTheirDeathsAndReturnsEveryOneInItsPlace() async throws {
        let (node, url) = try flow()
        try node.client([url, "publish", "order.placed", "12", "--exchange", "orders"])
        try node.client([url, "reject", "billing", "7"])
        let log = try log(url)
        _ = try await snapshot(log) { $0.topics.first { $0.name == "billing.dlq" }?.retained == 7 }

        let all = try await log.read(topic: "billing.dlq", partition: 0, from: 0, maxRecords: 100)
        XCTAssertEqual(all.records.count, 7)
        XCTAssertEqual(all.next, 7)
        let letter = DeadLetterParser.parse(all.records[0])
        XCTAssertEqual(letter.convention, .rabbitMQ)
        XCTAssertEqual(letter.originalTopic, "billing")
        XCTAssertEqual(letter.exceptionClass, "rejected")
        XCTAssertEqual(letter.deaths.count, 1)
        XCTAssertEqual(letter.deaths.first?.exchange, "orders")
        XCTAssertEqual(letter.deaths.first?.routingKeys, ["order.placed"])
        XCTAssertEqual(letter.deaths.first?.count, 1)
        XCTAssertNotNil(letter.deaths.first?.timeMillis)
        XCTAssertEqual(CorrelationRules.default.correlationID(of: all.records[0]), "ord-0", "the correlation-id property")
        XCTAssertEqual(String(decoding: all.records[0].key ?? [], as: UTF8.self), "order.placed")

        let middle = try await log.read(topic: "billing.dlq", partition: 0, from: 3, maxRecords: 2)
        XCTAssertEqual(middle.records.map(\.offset), [3, 4])
        XCTAssertEqual(middle.records.map { CorrelationRules.default.correlationID(of: $0) }, ["ord-3", "ord-4"])

        // Nothing was taken and nothing moved: pika drains all seven, in publish order, each marked redelivered.
        let drained = try node.client([url, "drain", "billing.dlq"]).split(separator: "\n")
        XCTAssertEqual(drained.count, 7)
        let seqs = drained.compactMap { line -> Int? in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let body = (obj["body"] as? String).flatMap({ Data(base64Encoded: $0) }),
                  let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
            XCTAssertEqual(obj["redelivered"] as? Bool, true)
            return json["seq"] as? Int
        }
        XCTAssertEqual(seqs, Array(0..<7))
    }

    func testAQuorumQueueIsBrowsedInOrderAndAStreamIsRefusedPlainly() async throws {
        let (node, url) = try flow()
        try node.client([url, "declare", "orders.qq", "quorum"])
        try node.client([url, "publish", "orders.qq", "12"])
        let log = try log(url)
        let middle = try await log.read(topic: "orders.qq", partition: 0, from: 4, maxRecords: 3)
        XCTAssertEqual(middle.records.map { CorrelationRules.default.correlationID(of: $0) }, ["ord-4", "ord-5", "ord-6"])
        let all = try await log.read(topic: "orders.qq", partition: 0, from: 0, maxRecords: 100)
        XCTAssertEqual(all.records.map { CorrelationRules.default.correlationID(of: $0) }, (0..<12).map { "ord-\($0)" })
        let drained = try node.client([url, "drain", "orders.qq"]).split(separator: "\n")
        let seqs = drained.compactMap { line -> Int? in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let body = (obj["body"] as? String).flatMap({ Data(base64Encoded: $0) }),
                  let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
            return json["seq"] as? Int
        }
        XCTAssertEqual(seqs, Array(0..<12), "two browses of a quorum queue moved nothing")

        // With a delivery limit, every return of a browse counts as a delivery: evtop refuses rather than
        // dead-letter the queue's messages after a few looks.
        try node.client([url, "declare", "orders.limited", "quorum", "5"])
        try node.client([url, "publish", "orders.limited", "2"])
        let limited = try self.log(url)
        _ = try await snapshot(limited) { $0.topics.contains { $0.name == "orders.limited" } }
        do {
            _ = try await limited.read(topic: "orders.limited", partition: 0, from: 0, maxRecords: 10)
            XCTFail("a quorum queue with a delivery limit is not browsed")
        } catch let error as BrokerError {
            guard case .unsupported(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("delivery limit"), why)
        }
        XCTAssertEqual(try node.client([url, "count", "orders.limited"]).trimmingCharacters(in: .whitespacesAndNewlines), "2")

        // A stream cannot be taken from: said as such, not as a broker outage to wait for.
        try node.client([url, "declare", "orders.stream", "stream"])
        try node.client([url, "publish", "orders.stream", "3"])
        do {
            _ = try await log.read(topic: "orders.stream", partition: 0, from: 0, maxRecords: 10)
            XCTFail("a stream cannot be browsed")
        } catch let error as BrokerError {
            guard case .unsupported(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("is a RabbitMQ stream"), why)
        }
    }

    func testABinaryMessageAndEscapesInHeadersAreReadByteForByte() async throws {
        let (node, url) = try flow()
        let sandbox = try Sandbox()
        var big = [UInt8](repeating: 0, count: 10 * 1024 * 1024)  // 10 MB: many 128 KiB frames
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        big[0] = 0xff  // not UTF-8
        try Data(big).write(to: URL(fileURLWithPath: sandbox.path("big.bin")))
        try node.client([url, "publish", "shipping", "1", "--body-file", sandbox.path("big.bin"), "--timestamp", "none",
                         "--header", "note=\u{1b}]0;owned\u{07}\u{1b}[2J"])
        let log = try log(url)
        let read = try await log.read(topic: "shipping", partition: 0, from: 0, maxRecords: 1)
        XCTAssertEqual(read.records.first?.value, big)
        XCTAssertEqual(read.records.first?.header("note")?.value, Array("\u{1b}]0;owned\u{07}\u{1b}[2J".utf8),
                       "bytes are kept; escaping is the screen's job")
        XCTAssertEqual(try node.client([url, "count", "shipping"]).trimmingCharacters(in: .whitespacesAndNewlines), "1",
                       "browsing took nothing")
        // A message with no timestamp property and no x-death has no time: JSON says null, never 1970.
        let list = try runProcess(try evtopBinary(), ["dlq", "list", "--dlq-topic", "shipping", "--json", "--broker", url,
                                                      "--management", node.managementURL], env: sandbox.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("\"failedAt\" : null") || !list.stdout.contains("failedAt"), list.stdout)
        XCTAssertFalse(list.stdout.contains("1969") || list.stdout.contains("1970"), list.stdout)
    }

    func testAWrongPasswordAMissingVhostAndNoManagementAPIAreSaidPlainly() async throws {
        let (node, url) = try flow()
        let wrong = try log(url.replacingOccurrences(of: "guest:guest", with: "guest:not-the-password"))
        do {
            _ = try await wrong.read(topic: "billing", partition: 0, from: 0, maxRecords: 1)
            XCTFail("a wrong password must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("login refused"), "\(error)")
            XCTAssertFalse("\(error)".contains("not-the-password"))
        }
        let nowhere = try log("amqp://guest:guest@127.0.0.1:\(node.amqpPort)/no-such-vhost")
        do {
            _ = try await nowhere.snapshot()
            XCTFail("a missing vhost must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("vhost 'no-such-vhost' does not exist"), "\(error)")
        }
        // The management API is not there (a closed port): AMQP alone still gives the named queues' depths.
        try node.client([url, "publish", "shipping", "4"])
        let closed = try node.client(["-", "ports", "1"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let amqpOnly = try log(url, management: "http://127.0.0.1:\(closed)", queues: ["shipping", "nosuch"])
        let snap = try await amqpOnly.snapshot()
        XCTAssertEqual(snap.topics.map(\.name), ["shipping"])
        XCTAssertEqual(snap.topics.first?.retained, 4)
        XCTAssertNil(snap.topics.first?.partitions.first?.published, "no rate without statistics, not 0")
        XCTAssertNil(snap.groups.first?.reported.first?.value.pending, "ready only is not the backlog: unknown")
        let limitation = try XCTUnwrap(snap.limitation)
        XCTAssertTrue(limitation.contains("no management API") && limitation.contains("1 of 2 named queues"), limitation)

        // Nothing listens on the AMQP port either: the reason, not librabbitmq's "a socket error occurred".
        let refused = try log("amqp://guest:guest@127.0.0.1:\(closed)/", management: "http://127.0.0.1:\(closed)", queues: ["shipping"])
        do {
            _ = try await refused.snapshot()
            XCTFail("a closed port must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("connection refused: is RabbitMQ listening there?"), "\(error)")
        }
    }

    func testTheCommandsReadRabbitMQAndKeepThePasswordOut() throws {
        let (node, url) = try flow()
        try node.client([url, "publish", "order.placed", "5", "--exchange", "orders"])
        try node.client([url, "reject", "billing", "2"])
        let binary = try evtopBinary()
        let sandbox = try Sandbox()
        var list = RunResult(status: -1, stdout: "", stderr: "")
        for _ in 0..<40 {  // the management API counts the letters within a second or two
            list = try runProcess(binary, ["dlq", "list", "--broker", url, "--management", node.managementURL, "--json"], env: sandbox.environment)
            if ((try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [Any])?.count == 2 { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertEqual(list.status, 0, list.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows.first?["originalTopic"] as? String, "billing")
        XCTAssertEqual(rows.first?["convention"] as? String, "rabbitMQ")
        let topics = try runProcess(binary, ["topics", "--broker", url, "--management", node.managementURL, "--interval", "0"], env: sandbox.environment)
        XCTAssertEqual(topics.status, 0, topics.stderr)
        XCTAssertTrue(topics.stdout.contains("billing.dlq (DLQ)"), topics.stdout)
        let json = try runProcess(binary, ["topics", "--broker", url, "--management", node.managementURL, "--interval", "0", "--json"], env: sandbox.environment)
        let queues = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], json.stdout)
        let billing = try XCTUnwrap(queues.first { $0["topic"] as? String == "billing" }?["queue"] as? [String: Any], json.stdout)
        XCTAssertEqual(billing["type"] as? String, "classic")
        XCTAssertEqual(billing["exchanges"] as? [String], ["orders"])
        XCTAssertEqual((billing["arguments"] as? [String: String])?["x-dead-letter-exchange"], "orders.dlx")
        XCTAssertEqual(billing["consumers"] as? Int, 0)
        let bad = try runProcess(binary, ["topics", "--broker", url.replacingOccurrences(of: "guest:guest", with: "guest:s3cret-pw"),
                                          "--management", node.managementURL, "--interval", "0"], env: sandbox.environment)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertFalse((bad.stdout + bad.stderr).contains("s3cret-pw"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("user and password") || bad.stderr.contains("refused"), bad.stderr)
    }

    func testTheDashboardShowsQueuesLagAndALettersDeathsInARealTerminal() throws {
        let (node, url) = try flow()
        try node.client([url, "publish", "order.placed", "9", "--exchange", "orders"])
        try node.client([url, "reject", "billing", "3"])
        let binary = try evtopBinary()
        let sandbox = try Sandbox()
        let tmux = try TmuxSession(width: 120, height: 30,
                                   command: "\(binary) --broker '\(url)' --management \(node.managementURL)", env: sandbox.environment)
        defer { tmux.sendKeys("q") }
        tmux.waitFor("billing.dlq") { $0.contains("billing.dlq") }
        tmux.waitFor("shipping") { $0.contains("shipping") }
        XCTAssertFalse(tmux.capture().contains("guest:guest"), "no credentials on screen:\n\(tmux.capture())")
        // Queues, not topics: kind, split, consumers and what feeds each; enter opens the queue (billing sorts first).
        let queues = tmux.capture()
        for text in ["Queues", "TYPE", "UNACKED", "ACK 10s/s", "FROM", "classic", "orders.dlx"] {
            XCTAssertTrue(queues.contains(text), "\(text) missing:\n\(queues)")
        }
        tmux.sendKeys("g", "Enter")
        // A queue just declared has no figures yet in the management API (shown as unknown): wait for them.
        tmux.waitFor("the queue detail") { $0.contains("BINDINGS") && $0.contains("messages wait for nobody") }
        let detail = tmux.capture()
        for text in ["billing · classic queue", "orders → order.*", "x-dead-letter-exchange  orders.dlx",
                     "go to exchange orders.dlx → billing.dlq", "none attached: messages wait for nobody"] {
            XCTAssertTrue(detail.contains(text), "\(text) missing:\n\(detail)")
        }
        tmux.sendKeys("Escape")
        tmux.waitFor("the queues") { $0.contains("sort:") }
        tmux.sendKeys("2")
        tmux.waitFor("shipping") { $0.contains("shipping") }
        tmux.sendKeys("4")
        tmux.waitFor("rejected") { $0.contains("rejected") }
        tmux.sendKeys("Enter")
        tmux.waitFor("billing.dlq") { $0.contains("billing.dlq") }
        tmux.sendKeys("Enter")
        tmux.waitFor("Deaths (x-death") { $0.contains("Deaths (x-death") }
        let screen = tmux.capture()
        XCTAssertTrue(screen.contains("billing · rejected ×1"), screen)
        XCTAssertTrue(screen.contains("exchange orders"), screen)

        // Requeue every letter from the view: the dialog says what a queue can promise, and they go back.
        tmux.sendKeys("Escape")
        tmux.waitFor("the letter list") { $0.contains("FAILED AT") }
        tmux.sendKeys("R")
        tmux.waitFor("the confirm dialog") { $0.contains("Requeue 3 dead letters?") }
        XCTAssertTrue(tmux.capture().contains("acked after confirm"), tmux.capture())
        tmux.sendKeys("Enter")
        tmux.waitFor("the report") { $0.contains("requeued 3 of 3") }
        XCTAssertEqual(try count(node, url, "billing.dlq"), 0)
        XCTAssertEqual(try count(node, url, "billing"), 9, "6 never taken, and the 3 requeued")
    }
}

/// A suite with a private RabbitMQ node of its own: started once before its first test (about 10 s),
/// stopped after its last. `node` is nil, and `nodeError` says why, when it could not start.
class RabbitNodeTestCase: XCTestCase {
    nonisolated(unsafe) static var node: RabbitNode?
    nonisolated(unsafe) static var nodeError: String?

    override class func setUp() {
        super.setUp()
        do { node = try RabbitNode.start() } catch { nodeError = "\(error)" }
    }

    override class func tearDown() {
        node?.stop()
        node = nil
        super.tearDown()
    }
}

/// The private node: `scripts/rabbitmq-node` started on free ports in a temporary directory.
final class RabbitNode: @unchecked Sendable {
    let dir: String
    let amqpPort: Int
    let managementPort: Int
    let root: String
    var managementURL: String { "http://127.0.0.1:\(managementPort)" }

    static func start() throws -> RabbitNode {
        let root = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/rabbitmq/bin/rabbitmq-server") else {
            throw XCTSkip("rabbitmq-server is not installed (scripts/deps installs it)")
        }
        let ports = try runProcess("/usr/bin/env", ["python3", root + "/Tests/Fixtures/rabbit_client.py", "-", "ports", "2"])
            .stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard ports.count == 2 else { throw XCTSkip("no free ports") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-rabbit-\(UUID().uuidString.prefix(8))").path
        let node = RabbitNode(root: root, dir: dir, amqp: ports[0], management: ports[1])
        // The node outlives the script and inherits its descriptors, so Foundation's Process (which waits
        // for its pipes to close) would never return: spawn without pipes, as TmuxSession does.
        let started = spawnAndWait(root + "/scripts/rabbitmq-node", ["start", dir, "\(ports[0])", "\(ports[1])"])
        guard started == 0 else {
            node.stop()
            throw NSError(domain: "rabbitmq", code: Int(started), userInfo: [NSLocalizedDescriptionKey: "rabbitmq-node start failed (status \(started)); see \(dir)/log"])
        }
        return node
    }

    private init(root: String, dir: String, amqp: Int, management: Int) {
        self.root = root
        self.dir = dir
        self.amqpPort = amqp
        self.managementPort = management
    }

    func stop() {
        _ = spawnAndWait(root + "/scripts/rabbitmq-node", ["stop", dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Stops the node, keeping its data, and starts it again on the same ports after `downSeconds`.
    func restart(downSeconds: Double) -> Int32 {
        _ = spawnAndWait(root + "/scripts/rabbitmq-node", ["stop", dir])
        Thread.sleep(forTimeInterval: downSeconds)
        return spawnAndWait(root + "/scripts/rabbitmq-node", ["start", dir, "\(amqpPort)", "\(managementPort)"])
    }

    /// Runs the pika fixture; fails the test with its stderr when it fails.
    @discardableResult
    func client(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runProcess("/usr/bin/env", ["python3", root + "/Tests/Fixtures/rabbit_client.py"] + args, limit: 120)
        guard r.status == 0 else {
            XCTFail("rabbit_client.py \(args.dropFirst().first ?? "") failed: \(r.stderr)", file: file, line: line)
            throw XCTSkip("fixture failed")
        }
        return r.stdout
    }
}
